"""``metric_threshold``: a metric recorded on the version lies within bounds.

Params: ``metric`` (the name in the version's ``metrics``), ``min`` and/or ``max``
(inclusive). A version that did not record the metric fails: a gate never passes
on a number nobody measured.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelsteward.lifecycle.checks.registry import Check, CheckContext, CheckResult


class MetricThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    metric: str = Field(min_length=1, max_length=128)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> MetricThresholdParams:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is greater than 'max'")
        return self


def within(value: float, low: float | None, high: float | None) -> bool:
    """Inclusive bounds; NaN is never within."""
    if math.isnan(value):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def bounds_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"in [{low:g}, {high:g}]"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def run(context: CheckContext, params: MetricThresholdParams) -> CheckResult:
    raw = context.version.metrics.get(params.metric)
    wanted = bounds_text(params.min, params.max)
    details = {"metric": params.metric, "min": params.min, "max": params.max, "value": raw}
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        return CheckResult(
            False, f"metric {params.metric!r} is not recorded (wanted {wanted})", details
        )
    value = float(raw)
    passed = within(value, params.min, params.max)
    verdict = "is" if passed else "is not"
    return CheckResult(passed, f"{params.metric} = {value:g} {verdict} {wanted}", details)


CHECK = Check(
    name="metric_threshold",
    description="A metric recorded on the version is at least 'min' and/or at most 'max'.",
    params_model=MetricThresholdParams,
    run=run,
)
