"""``fairness_bounds``: fairness metrics recorded on the version lie within bounds.

Reads version metrics named ``fairness.<measure>`` or, per protected attribute,
``fairness.<measure>.<attribute>`` (e.g. ``fairness.demographic_parity_difference.sex``);
registration records them today, monitoring will feed them later. Params: ``bounds``,
measure -> ``{min, max, max_abs}`` (defaults: parity and equalised-odds differences
within +-0.1, disparate impact ratio at least 0.8, the four-fifths rule), and
``min_measured`` (default 1): fewer bounded metrics recorded than that fails, so a
version without fairness metrics never passes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelsteward.lifecycle.checks.metric_threshold import bounds_text, within
from modelsteward.lifecycle.checks.registry import Check, CheckContext, CheckResult

PREFIX = "fairness."


class Bound(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float | None = None
    max: float | None = None
    max_abs: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _some(self) -> Bound:
        if self.min is None and self.max is None and self.max_abs is None:
            raise ValueError("a bound needs 'min', 'max' or 'max_abs'")
        return self

    def admits(self, value: float) -> bool:
        return within(value, self.min, self.max) and (
            self.max_abs is None or within(abs(value), None, self.max_abs)
        )

    def text(self) -> str:
        parts = [f"|x| <= {self.max_abs:g}"] if self.max_abs is not None else []
        if self.min is not None or self.max is not None:
            parts.append(bounds_text(self.min, self.max))
        return " and ".join(parts)


DEFAULT_BOUNDS = {
    "demographic_parity_difference": Bound(max_abs=0.1),
    "equalized_odds_difference": Bound(max_abs=0.1),
    "disparate_impact_ratio": Bound(min=0.8),
}


class FairnessParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bounds: Annotated[dict[str, Bound], Field(min_length=1, max_length=64)] = DEFAULT_BOUNDS
    min_measured: Annotated[int, Field(ge=0, le=1000)] = 1


def measure_of(metric: str) -> str | None:
    """``fairness.x`` and ``fairness.x.attribute`` both measure ``x``."""
    if not metric.startswith(PREFIX):
        return None
    return metric.removeprefix(PREFIX).split(".", 1)[0] or None


def run(context: CheckContext, params: FairnessParams) -> CheckResult:
    measured: dict[str, Any] = {}
    violations: list[str] = []
    for metric, raw in sorted(context.version.metrics.items()):
        measure = measure_of(metric)
        if measure not in params.bounds or not isinstance(raw, int | float):
            continue
        bound = params.bounds[measure]
        measured[metric] = raw
        if not bound.admits(float(raw)):
            violations.append(f"{metric} = {float(raw):g} (wanted {bound.text()})")
    details = {"measured": measured, "violations": violations}
    if violations:
        return CheckResult(False, "out of bounds: " + "; ".join(violations), details)
    if len(measured) < params.min_measured:
        wanted = ", ".join(PREFIX + m for m in params.bounds)
        return CheckResult(
            False,
            f"{len(measured)} bounded fairness metric(s) recorded, {params.min_measured} "
            f"needed; record one of: {wanted}",
            details,
        )
    return CheckResult(True, f"{len(measured)} fairness metric(s) within bounds", details)


CHECK = Check(
    name="fairness_bounds",
    description="Fairness metrics (fairness.<measure>[.<attribute>]) lie within bounds.",
    params_model=FairnessParams,
    run=run,
)
