"""Which alert events a channel hears: by event, severity, model and label matchers.

Matchers are written as in Alertmanager: ``team=risk``, ``environment!=staging``,
``tag_domain=~credit|loans`` and ``owner!~bot.*`` (regular expressions match the whole
value). They read the alert's routing labels, which alerting copies from the
inventory (owner, team, risk_tier, environment, model, deployment, severity, rule, and
the model's tags as ``tag_<name>``). Every condition given must hold; an empty list
allows everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AlertEvent = Literal["alert.opened", "alert.acknowledged", "alert.resolved"]
Severity = Literal["critical", "warning", "info"]
_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
MAX_PATTERN = 200
DEFAULT_EVENTS: tuple[AlertEvent, ...] = ("alert.opened", "alert.resolved")


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Matcher:
        found = _MATCHER.fullmatch(text)
        if found is None:
            raise ValueError(
                f"matcher {text[:80]!r} must look like label=value, label!=value, "
                "label=~regex or label!~regex"
            )
        label, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if op in ("=~", "!~"):
            if len(value) > MAX_PATTERN:
                raise ValueError(f"matcher {label}: regex longer than {MAX_PATTERN} characters")
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"matcher {label}: invalid regex ({exc})") from None
        return cls(label, op, value)

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    events: list[AlertEvent] = Field(default_factory=lambda: list(DEFAULT_EVENTS))
    severities: list[Severity] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list, max_length=200)
    matchers: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("matchers")
    @classmethod
    def _parse(cls, values: list[str]) -> list[str]:
        for text in values:
            Matcher.parse(text)
        return values

    def routes(self, event: str, payload: dict[str, Any]) -> bool:
        """True when an alert event with ``payload`` (an ``AlertChanged``) goes here."""
        if event not in self.events:
            return False
        if self.severities and payload["severity"] not in self.severities:
            return False
        if self.models and payload["model"] not in self.models:
            return False
        labels = {**_fields(payload), **payload.get("labels", {})}
        return all(Matcher.parse(m).matches(labels) for m in self.matchers)


def _fields(payload: dict[str, Any]) -> dict[str, str]:
    keys = ("model", "deployment", "severity", "rule", "environment")
    return {k: str(payload[k]) for k in keys if payload.get(k) is not None}
