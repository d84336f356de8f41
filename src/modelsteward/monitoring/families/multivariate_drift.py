"""Multivariate drift: changes in how the numeric inputs move together.

Two metrics per window (and per segment), against the baseline of
``monitoring.multivariate.reference`` (fitted at registration, else the first window):

- ``domain_classifier_auc``: cross-validated ROC AUC of a model telling reference rows
  from window rows, with Hanley-McNeil's band. Default: breached when the AUC is above
  0.6 *and* its band's lower end is above 0.5 (the classifier beats chance by a margin
  that sampling noise does not explain); a ``thresholds`` bound replaces the 0.6.
- ``reconstruction_error``: the mean PCA reconstruction error with its 95% band.
  Default: breached outside the reference's mean +/- 3 standard deviations of a mean of
  the window's size (``multivariate.reconstruction``); a ``thresholds`` bound replaces it.

Both see a correlation that flips while each column keeps its distribution, which
per-column drift tests miss. Only numeric input columns are used; see
docs/monitoring-multivariate.md.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field

from modelsteward.monitoring.bands import Estimate
from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult
from modelsteward.monitoring.multivariate.baseline import MultivariateBaseline
from modelsteward.monitoring.multivariate.domain_classifier import (
    MAX_CURRENT_ROWS,
    domain_classifier_auc,
)
from modelsteward.monitoring.multivariate.matrix import read_matrix
from modelsteward.monitoring.multivariate.reconstruction import default_band, reconstruction_error
from modelsteward.monitoring.multivariate.reference import open_window
from modelsteward.monitoring.points import Point
from modelsteward.monitoring.specs import Bound, MonitorSpec
from modelsteward.monitoring.windows.segments import segments

AUC_BOUND = Bound(max=0.6)
CHANCE = 0.5


class MultivariateDriftSpec(MonitorSpec):
    metrics = ("domain_classifier_auc", "reconstruction_error")
    type: Literal["multivariate_drift"] = "multivariate_drift"
    min_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 50
    classifier_rows: Annotated[int, Field(ge=100, le=50_000)] = Field(
        default=MAX_CURRENT_ROWS, description="At most this many window rows for the classifier"
    )
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


def _point(
    metric: str,
    estimate: Estimate,
    bound: Bound | None,
    breached: bool,
    segment: str,
    detail: dict[str, Any],
) -> Point:
    if estimate.note:
        detail = detail | {"note": estimate.note}
    status = "breached" if breached else "ok"
    if estimate.value is None:
        status = "not enough data"
    threshold = bound.threshold if bound is not None else None
    low, high = (
        v if v is not None and math.isfinite(v) else None for v in (estimate.low, estimate.high)
    )
    return Point(metric, estimate.value, "", segment, low, high, threshold, status, detail)


def _reconstruction(
    spec: MultivariateDriftSpec, baseline: MultivariateBaseline, z: np.ndarray, segment: str
) -> Point:
    estimate = reconstruction_error(baseline, z)
    bound = spec.bound("reconstruction_error") or default_band(baseline, int(z.shape[0]))
    detail: dict[str, Any] = {
        "n": estimate.n,
        "reference_mean": baseline.error_mean,
        "reference_std": baseline.error_std,
        "components": baseline.geometry.kept,
        "direction": "both",
    }
    if bound is not None:
        detail["band"] = [bound.min, bound.max]
    value = estimate.value
    breached = value is not None and bound is not None and not bound.holds(value)
    return _point("reconstruction_error", estimate, bound, breached, segment, detail)


def _classifier(
    spec: MultivariateDriftSpec, baseline: MultivariateBaseline, z: np.ndarray, segment: str
) -> Point:
    found = domain_classifier_auc(baseline.sample, z, max_rows=spec.classifier_rows, seed=spec.seed)
    estimate, bound = found.estimate, spec.bound("domain_classifier_auc") or AUC_BOUND
    detail: dict[str, Any] = {
        "n": estimate.n,
        "rows_per_side": found.rows_per_side,
        "folds": [round(a, 4) for a in found.folds],
        "direction": "max",
    }
    value, low = estimate.value, estimate.low
    beyond_chance = low is not None and low > CHANCE
    breached = value is not None and not bound.holds(value) and beyond_chance
    return _point("domain_classifier_auc", estimate, bound, breached, segment, detail)


def judge(
    spec: MultivariateDriftSpec,
    baseline: MultivariateBaseline,
    inputs: pa.Table | pd.DataFrame,
    segment: str = "",
) -> list[Point]:
    """Both metrics of one table of inputs (a window or a segment) against ``baseline``."""
    matrix = read_matrix(inputs, baseline.columns)
    z = baseline.scaled(matrix)
    points = [_classifier(spec, baseline, z, segment), _reconstruction(spec, baseline, z, segment)]
    gaps = matrix.missing + matrix.non_finite
    if gaps:
        note = (
            f"{matrix.missing} missing and {matrix.non_finite} infinite cells were read as "
            "the reference median"
        )
        for point in points:
            point.detail["gaps"] = note
    return points


def evaluate(spec: MultivariateDriftSpec, ctx: FamilyContext) -> FamilyResult:
    opened = open_window(spec, ctx)
    result: FamilyResult = opened.result
    if opened.baseline is None:
        return result
    for segment, part in segments(opened.window, spec.segment_by):
        result.points += judge(spec, opened.baseline, part.inputs, segment)
    return result


FAMILY = Family(
    spec=MultivariateDriftSpec,
    evaluate=evaluate,
    summary="multivariate drift: domain classifier AUC and PCA reconstruction error",
)
