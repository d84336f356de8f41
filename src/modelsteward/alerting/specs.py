"""Alert rule specs: what a rule watches, when it fires and when it lets go.

A rule is a frozen pydantic model validated at creation, so a bad rule is a 422 that
names the field. It watches the metric points that monitor runs store:

- **what**: ``metric`` (a name, or ``*`` for every metric of the monitor), optionally one
  ``monitor``, ``column`` and ``segment``; ``scope`` picks the deployments (one deployment,
  every deployment of a model, a risk tier, a tag; empty is every deployment).
- **condition**: ``breached`` (the monitor's own threshold judged the point), ``above`` /
  ``below`` a ``threshold``, or ``outside`` the band ``low``..``high``.
- **pending**: fire when ``breaches`` of the last ``of_windows`` windows breached
  ("for 3 consecutive windows" is 3 of 3).
- **keep_firing_windows**: hysteresis; a firing alert resolves only after this many ok
  windows in a row beyond the first, so a flapping metric does not page on every run.
- **min_samples**: a window with fewer rows than this is "no data", never a breach.
- **no_data**: what a window without data does: ``keep`` (nothing changes), ``ok``
  (counts as ok) or ``alert`` (counts as a breach: a silent model is a problem).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from modelsteward.alerting.channels.routing import Matcher
from modelsteward.alerting.channels.specs import problems
from modelsteward.errors import InvalidInput
from modelsteward.names import check_name

Severity = Literal["critical", "warning", "info"]
Condition = Literal["breached", "above", "below", "outside"]
NoData = Literal["keep", "ok", "alert"]
MAX_WINDOWS = 100


class Scope(BaseModel):
    """Which deployments a rule applies to: every condition given must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    deployment: str | None = Field(default=None, max_length=128)
    model: str | None = Field(default=None, max_length=128)
    risk_tier: str | None = Field(default=None, max_length=16)
    tag: str | None = Field(default=None, max_length=300, description="key=value")

    @model_validator(mode="after")
    def _tag_is_a_pair(self) -> Scope:
        if self.tag is not None and "=" not in self.tag:
            raise ValueError("tag must be written key=value")
        return self

    def matches(self, target: dict[str, Any]) -> bool:
        """``target`` holds deployment, model, risk_tier and tags of the deployment."""
        if self.deployment is not None and target["deployment"] != self.deployment:
            return False
        if self.model is not None and target["model"] != self.model:
            return False
        if self.risk_tier is not None and target["risk_tier"] != self.risk_tier:
            return False
        if self.tag is not None:
            key, _, value = self.tag.partition("=")
            return str(target["tags"].get(key.strip())) == value.strip()
        return True


class Pending(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    breaches: int = Field(default=1, ge=1, le=MAX_WINDOWS)
    of_windows: int = Field(default=1, ge=1, le=MAX_WINDOWS)

    @model_validator(mode="after")
    def _fits(self) -> Pending:
        if self.breaches > self.of_windows:
            raise ValueError("breaches cannot exceed of_windows")
        return self


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(max_length=128)
    description: str = Field(default="", max_length=2000)
    metric: str = Field(min_length=1, max_length=64)
    monitor: str | None = Field(default=None, max_length=64)
    column: str | None = Field(default=None, max_length=128)
    segment: str | None = Field(default=None, max_length=128)
    condition: Condition = "breached"
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    severity: Severity = "warning"
    scope: Scope = Field(default_factory=Scope)
    pending: Pending = Field(default_factory=Pending)
    keep_firing_windows: int = Field(default=2, ge=0, le=MAX_WINDOWS)
    min_samples: int = Field(default=0, ge=0, le=10**9)
    no_data: NoData = "keep"
    labels: dict[str, str] = Field(default_factory=dict, max_length=20)
    enabled: bool = True

    @model_validator(mode="after")
    def _condition_has_its_numbers(self) -> RuleSpec:
        check_name(self.name, what="rule name")
        if self.condition in ("above", "below") and self.threshold is None:
            raise ValueError(f"threshold: required when condition is {self.condition!r}")
        if self.condition == "outside":
            if self.low is None or self.high is None:
                raise ValueError("low and high: both required when condition is 'outside'")
            if self.low > self.high:
                raise ValueError("low must not exceed high")
        for key in self.labels:
            Matcher.parse(f"{key}=x")  # a label name must be matchable
        return self

    def watches(self, monitor: str, metric: str, column: str, segment: str) -> bool:
        """Whether a point of ``monitor`` for (metric, column, segment) is this rule's."""
        return (
            (self.monitor is None or self.monitor == monitor)
            and (self.metric == "*" or self.metric == metric)
            and (self.column is None or self.column == column)
            and (self.segment is None or self.segment == segment)
        )

    def breaches(self, status: str, value: float | None) -> bool:
        """Whether a point with data breaches this rule's condition."""
        if self.condition == "breached":
            return status == "breached"
        if value is None:
            return False
        if self.condition == "above":
            return value > (self.threshold or 0.0)
        if self.condition == "below":
            return value < (self.threshold or 0.0)
        return value < (self.low or 0.0) or value > (self.high or 0.0)


def parse_rule(data: Any) -> RuleSpec:
    """A rule spec from user input; a ValidationError becomes an error naming each field."""
    if not isinstance(data, dict):
        raise InvalidInput("a rule must be a JSON object")
    try:
        return RuleSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"invalid rule: {problems(exc)}") from None

