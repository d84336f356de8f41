"""The catalogue: every event name declared once, with its meaning and payload schema.

Each service declares the events it emits (a list of ``EventType`` in its ``events``
module) and ships them through the ``modelsteward.events`` entry point group, the same
door as third-party packages. Recording an undeclared name, or a payload that does not
fit its schema, is a programming error and raises at once, inside the change, so it
never reaches the outbox. Life cycle definitions may emit events of their own
(``emit_event``): any name outside the services' families is such a custom event.
``docs/events.md`` is checked against this catalogue by a test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

log = logging.getLogger(__name__)
GROUP = "modelsteward.events"
RESERVED_FAMILIES = frozenset({"alert", "audit", "retrain", "control", "webhook"})
"""Families kept for services still to come, so no life cycle can forge their events."""


class Payload(BaseModel):
    """Base of payload schemas: frozen, and strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomPayload(BaseModel):
    """What a life cycle's ``emit_event`` adds to its own fields."""

    model_config = ConfigDict(extra="allow", frozen=True)
    model: str
    version: int
    instance: int


@dataclass(frozen=True)
class EventType:
    name: str
    meaning: str
    object_type: str
    payload: type[BaseModel]

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]


CUSTOM = EventType(
    "<custom>",
    "An event a life cycle definition emits (emit_event action).",
    "version",
    CustomPayload,
)


class UndeclaredEvent(Exception):
    """Code recorded an event the catalogue does not declare (a bug, not bad input)."""


@dataclass(frozen=True)
class Catalogue:
    types: Mapping[str, EventType]

    @property
    def families(self) -> frozenset[str]:
        return frozenset(t.family for t in self.types.values()) | RESERVED_FAMILIES

    def is_custom(self, name: str) -> bool:
        return name not in self.types and name.split(".", 1)[0] not in self.families

    def type_of(self, name: str) -> EventType:
        found = self.types.get(name)
        if found is not None:
            return found
        if self.is_custom(name):
            return CUSTOM
        raise UndeclaredEvent(
            f"event {name!r} is not declared in the catalogue (see docs/events.md)"
        )

    def check(self, name: str, object_type: str, payload: Mapping[str, Any]) -> None:
        """Raise ``UndeclaredEvent`` unless ``name`` is declared and ``payload`` fits."""
        declared = self.type_of(name)
        if declared.object_type != object_type:
            raise UndeclaredEvent(
                f"event {name!r} is about a {declared.object_type}, not a {object_type}"
            )
        try:
            declared.payload.model_validate(payload)
        except ValidationError as exc:
            raise UndeclaredEvent(f"payload of {name!r} does not fit its schema: {exc}") from None


def build(declarations: Iterable[EventType]) -> Catalogue:
    types: dict[str, EventType] = {}
    for declared in declarations:
        if declared.name in types:
            raise ValueError(f"event {declared.name!r} is declared twice")
        types[declared.name] = declared
    return Catalogue(types)


@cache
def catalogue() -> Catalogue:
    """Every declared event, from the entry point group (loaded once per process)."""
    found: list[EventType] = []
    for ep in entry_points(group=GROUP):
        try:
            found.extend(ep.load())
        except Exception:
            log.exception("cannot load event declarations %r from %s", ep.name, GROUP)
    return build(found)
