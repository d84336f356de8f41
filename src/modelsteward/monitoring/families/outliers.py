"""Outliers per request: the share of a window's rows far from the reference.

Each row's Mahalanobis distance from the baseline of ``monitoring.multivariate.reference``
(fitted at registration, else the first window) is compared with the baseline's cut-off
(chi-square 99.5% quantile, or the reference's own 99.5% distance quantile if larger).
The metric ``outlier_rate`` carries its Wilson band; by default it breaches above
``max(0.02, 2 x the reference's rate)``, and a ``thresholds`` bound replaces that. The
point's detail lists the farthest requests (id, distance, the column furthest from its
median) so an operator can look at them. Only numeric input columns are used.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field

from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult
from modelsteward.monitoring.multivariate.baseline import MultivariateBaseline
from modelsteward.monitoring.multivariate.matrix import read_matrix
from modelsteward.monitoring.multivariate.outliers import Outliers, default_bound, outlier_rate
from modelsteward.monitoring.multivariate.reference import open_window
from modelsteward.monitoring.points import Point, judged
from modelsteward.monitoring.specs import MonitorSpec
from modelsteward.monitoring.windows.segments import segments


class OutliersSpec(MonitorSpec):
    metrics = ("outlier_rate",)
    type: Literal["outliers"] = "outliers"
    min_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    top: Annotated[int, Field(ge=0, le=50)] = Field(
        default=5, description="How many of the farthest requests the detail lists"
    )


def farthest(
    found: Outliers, z: np.ndarray, baseline: MultivariateBaseline, ids: list[Any], top: int
) -> list[dict[str, Any]]:
    """The ``top`` outlying requests, farthest first (a request's farthest row speaks for it)."""
    listed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in found.outlying.tolist():
        if len(listed) >= top:
            break
        if ids[row] in seen:
            continue
        seen.add(ids[row])
        column = baseline.columns[int(np.argmax(np.abs(z[row])))]
        distance = round(float(found.distances[row]), 3)
        listed.append({"request_id": ids[row], "distance": distance, "column": column})
    return listed


def judge(
    spec: OutliersSpec,
    baseline: MultivariateBaseline,
    inputs: pa.Table | pd.DataFrame,
    request_ids: list[Any],
    segment: str = "",
) -> list[Point]:
    """The outlier rate of one table of inputs; ``request_ids`` names its rows."""
    matrix = read_matrix(inputs, baseline.columns)
    z = baseline.scaled(matrix)
    found = outlier_rate(baseline, z)
    bound = {"outlier_rate": default_bound(baseline)}
    (point,) = judged({"outlier_rate": found.estimate}, spec, segment, bound)
    detail = {
        "distance_threshold": round(baseline.distance_threshold, 4),
        "reference_rate": baseline.reference_outlier_rate,
        "outliers": int(found.outlying.size),
        "top": farthest(found, z, baseline, request_ids, spec.top),
    }
    if matrix.missing + matrix.non_finite:
        detail["gaps"] = (
            f"{matrix.missing} missing and {matrix.non_finite} infinite cells were read "
            "as the reference median"
        )
    return [replace(point, detail=point.detail | detail)]


def evaluate(spec: OutliersSpec, ctx: FamilyContext) -> FamilyResult:
    opened = open_window(spec, ctx)
    result: FamilyResult = opened.result
    if opened.baseline is None:
        return result
    for segment, part in segments(opened.window, spec.segment_by):
        ids = part.meta.column("request_id").to_pylist()
        result.points += judge(spec, opened.baseline, part.inputs, ids, segment)
    return result


FAMILY = Family(
    spec=OutliersSpec,
    evaluate=evaluate,
    summary="outlier rate: rows far from the reference by Mahalanobis distance",
)
