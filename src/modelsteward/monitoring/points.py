"""A metric point as a family computes it, and the judging of estimates against bounds.

Every family turns its figures (``bands.Estimate``) into ``Point``s: the value, its 95%
band, the threshold that judged it and the status that gives ("ok", "breached", "not
enough data"...). ``outcomes`` stores them as ``metric_points`` rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from modelsteward.monitoring.bands import Estimate
from modelsteward.monitoring.specs import Bound, MonitorSpec


@dataclass(frozen=True)
class Point:
    """A computed metric value before it is stored, with the status its threshold gives."""

    metric: str
    value: float | None
    column: str = ""
    segment: str = ""
    low: float | None = None
    high: float | None = None
    threshold: float | None = None
    status: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


def judged(
    estimates: dict[str, Estimate],
    spec: MonitorSpec,
    segment: str = "",
    defaults: dict[str, Bound] | None = None,
) -> list[Point]:
    """One point per estimate: "not enough data" without a value, else ok or breached."""
    points = []
    for metric, estimate in estimates.items():
        bound = spec.bound(metric) or (defaults or {}).get(metric)
        detail: dict[str, Any] = {"n": estimate.n}
        if estimate.note:
            detail["note"] = estimate.note
        if bound is not None:
            detail["direction"] = "max" if bound.max is not None else "min"
        if estimate.value is None:
            status = "not enough data"
        else:
            status = "ok" if bound is None or bound.holds(estimate.value) else "breached"
        points.append(
            Point(
                metric,
                _finite(estimate.value),
                "",
                segment,
                _finite(estimate.low),
                _finite(estimate.high),
                bound.threshold if bound is not None else None,
                status,
                detail,
            )
        )
    return points


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
