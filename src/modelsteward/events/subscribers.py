"""Subscribers: a reaction to events, declared by the service that owns it.

A service ships its subscribers through the ``modelsteward.subscribers`` entry point
group (the same door as third-party packages), so adding a reaction edits no
composition root. ``scope`` says where it runs:

- ``cluster``: once per cluster. Any process that runs background work may deliver
  it; a lease on its cursor lets one at a time do so, and another takes over within
  one lease period when that process dies. Delivery is at least once: a handler must
  be idempotent by event id (a life cycle move checks the state it moves from, an
  instance start is unique per version).
- ``process``: in every serving process, for state that lives in memory (reloading
  routes). It starts at the outbox head when the process starts and is not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from modelsteward.events.domain import DomainEvent
from modelsteward.plugins import NamedRegistry

if TYPE_CHECKING:
    from modelsteward.context import Steward

Scope = Literal["cluster", "process"]
Handler = Callable[["Steward", DomainEvent], None]
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Subscriber:
    name: str
    description: str
    events: frozenset[str]
    """Event names it wants, or ``{"*"}`` for every event."""
    handle: Handler = field(repr=False)
    scope: Scope = "cluster"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def wants(self, event: DomainEvent) -> bool:
        return "*" in self.events or event.name in self.events

    @property
    def names(self) -> frozenset[str] | None:
        """The names to read from the outbox, or None for all."""
        return None if "*" in self.events else self.events


SUBSCRIBERS: NamedRegistry[Subscriber] = NamedRegistry(
    "modelsteward.subscribers", "subscriber", Subscriber
)
