"""Points of the built-in drift and data quality families, from their computed results.

Drift points carry each method's statistic with its no-drift band; quality points
carry each rate with its 95% Wilson band and the threshold that judged it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa

from modelsteward.monitoring.bands import Estimate, wilson
from modelsteward.monitoring.drift import DriftResult
from modelsteward.monitoring.performance import Point, judged
from modelsteward.monitoring.quality import data_quality
from modelsteward.monitoring.specs import DEFAULT_THRESHOLDS, Bound, MonitorSpec
from modelsteward.profiles.dataset import DatasetProfile


def drift_points(result: DriftResult, segment: str = "") -> list[Point]:
    """A drift_score point per column and the data set's drift_share.

    The score is the method's statistic with its no-drift band; methods that decide by
    p-value carry their p-value and its threshold in ``detail`` (no threshold line)."""
    points = []
    for column in result.columns:
        detail: dict[str, Any] = {
            "method": column.method,
            "kind": column.kind,
            "p_value": column.p_value,
            "reference_rows": column.reference_rows,
            "current_rows": column.current_rows,
        }
        by_p_value = column.p_value is not None and column.method in ("ks", "chi_square")
        if by_p_value:
            detail["p_threshold"] = column.threshold
        status = "breached" if column.status == "drift" else column.status
        points.append(
            Point(
                "drift_score",
                column.statistic,
                column.column,
                segment,
                column.low,
                column.high,
                None if by_p_value else column.threshold,
                status,
                detail,
            )
        )
    share = result.drift_share
    share_status = "not enough data" if share is None else "ok"
    if result.dataset_drift:
        share_status = "breached"
    detail = {"drifted_columns": result.drifted_columns}
    points.append(
        Point(
            "drift_share",
            share,
            "",
            segment,
            None,
            None,
            result.share_threshold,
            share_status,
            detail,
        )
    )
    return points


def quality_points(
    spec: MonitorSpec, reference: DatasetProfile, data: pa.Table, segment: str = ""
) -> list[Point]:
    """Per column: missing, type-violation, out-of-range and unseen-category rates; for the
    data set: the duplicate-row rate and the number of schema changes."""
    columns = getattr(spec, "columns", None)
    if columns:
        kept = {n: c for n, c in reference.columns.items() if n in columns}
        reference = DatasetProfile(reference.rows, kept)
        data = data.select([n for n in data.column_names if n in columns])
    result = data_quality(reference, data)
    defaults = DEFAULT_THRESHOLDS["data_quality"]
    points: list[Point] = []
    for column in result.columns:
        rows = max(column.rows, 1)
        rates = {
            "missing_rate": column.missing_rate,
            "type_violation_rate": column.type_violations / rows if column.rows else None,
            "out_of_range_rate": column.out_of_range_rate,
            "unseen_category_rate": column.unseen_rate,
        }
        own = {"missing_rate": Bound(max=min(1.0, (column.reference_missing_rate or 0.0) + 0.05))}
        for metric, value in rates.items():
            if value is None and metric != "missing_rate":
                continue
            bound = spec.bound(metric, column.column) or own.get(metric) or defaults.get(metric)
            if column.status not in ("ok", "issue"):
                status: str = column.status
            elif value is None:
                status = "not enough data"
            else:
                status = "ok" if bound is None or bound.holds(value) else "breached"
            detail: dict[str, Any] = {"kind": column.kind, "rows": column.rows}
            if column.issues:
                detail["issues"] = list(column.issues)
            threshold = bound.threshold if bound is not None else None
            low, high = rate_band(value, column.rows)
            points.append(
                Point(metric, value, column.column, segment, low, high, threshold, status, detail)
            )
    changes = [f"{c.column}: {c.change}" for c in result.schema_changes]
    table = {
        "duplicate_row_rate": Estimate(result.duplicate_rate, n=result.rows),
        "schema_changes": Estimate(float(len(changes)), n=result.rows),
    }
    if result.rows and result.duplicate_rate is not None:
        duplicates = round(result.duplicate_rate * result.rows)
        table["duplicate_row_rate"] = Estimate(
            result.duplicate_rate, *wilson(duplicates, result.rows), n=result.rows
        )
    for point in judged(table, spec, segment, defaults):
        extra = {"changes": changes} if point.metric == "schema_changes" and changes else {}
        points.append(replace(point, detail=point.detail | extra))
    return points


def rate_band(rate: float | None, rows: int) -> tuple[float | None, float | None]:
    """The 95% Wilson band of a share of ``rows`` (so 1 bad row in 10 is not read as 10%)."""
    if rate is None or rows <= 0 or not 0.0 <= rate <= 1.0:
        return None, None
    return wilson(round(rate * rows), rows)
