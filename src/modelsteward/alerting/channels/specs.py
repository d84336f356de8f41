"""A channel as an operator writes it: validated at the boundary, frozen.

``config`` is checked against the kind's own settings model (resolved by name through
the kinds registry, never an import path), and its endpoint against the SSRF guard.
Secrets are kept but never shown: a view shows ``********`` (a Slack or Teams URL only
its scheme and host).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelsteward.alerting.channels.kinds import KINDS, ChannelKind
from modelsteward.alerting.channels.routing import Routing
from modelsteward.alerting.channels.templates import TemplateSpec
from modelsteward.errors import InvalidInput
from modelsteward.names import check_name

MASK = "********"


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    kind: str = Field(max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)
    routing: Routing = Field(default_factory=Routing)
    group_wait_s: float = Field(default=0.0, ge=0, le=3600)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=6, ge=1, le=20)
    template: TemplateSpec = Field(default_factory=TemplateSpec)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return check_name(value, what="channel name")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None


class ChannelUpdate(BaseModel):
    """What may change; a secret left out (or sent back masked) keeps its value."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    config: dict[str, Any] | None = None
    routing: Routing | None = None
    group_wait_s: float | None = Field(default=None, ge=0, le=3600)
    timeout_s: float | None = Field(default=None, gt=0, le=120)
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    template: TemplateSpec | None = None
    enabled: bool | None = None


def problems(exc: ValidationError, prefix: str = "") -> str:
    return "; ".join(
        f"{prefix}{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
    )


def parse_spec(data: dict[str, Any]) -> ChannelSpec:
    try:
        return ChannelSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"invalid channel: {problems(exc)}") from None


def checked_config(
    kind: ChannelKind, config: dict[str, Any], group_wait_s: float, networks: Sequence[str]
) -> dict[str, Any]:
    """The kind's settings, validated, with what it fills in; the endpoint checked."""
    filled = kind.prepare(dict(config)) if kind.prepare else dict(config)
    try:
        model = kind.config.model_validate(filled)
    except ValidationError as exc:
        raise InvalidInput(f"invalid {kind.name} channel: {problems(exc, 'config.')}") from None
    if group_wait_s > 0 and not kind.groups:
        raise InvalidInput(
            f"config: a {kind.name} channel sends one message per alert; group_wait_s must be 0"
        )
    kind.check(model, networks)
    return model.model_dump(mode="json")


def masked(kind: ChannelKind | None, config: dict[str, Any]) -> dict[str, Any]:
    secrets = kind.secrets if kind is not None else tuple(config)
    shown = dict(config)
    for key in secrets:
        value = shown.get(key)
        if not value:
            continue
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            parts = urlsplit(value)
            shown[key] = f"{parts.scheme}://{parts.netloc}/{MASK}"
        else:
            shown[key] = MASK
    return shown


def merge_secrets(kind: ChannelKind, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with each secret that was left out or sent back masked taken from ``old``."""
    merged = dict(new)
    shown = masked(kind, old)
    for key in kind.secrets:
        if (key not in merged or merged[key] == shown.get(key)) and key in old:
            merged[key] = old[key]
    return merged


def kind_of(name: str) -> ChannelKind:
    return KINDS.get(name)
