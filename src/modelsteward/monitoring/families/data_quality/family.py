"""The ``data_quality`` family: each input column's rates against the reference profile.

Per column: missing, type violation, out of range and unseen category rates; for the
window: duplicate rows and schema changes (``quality`` beside it computes them). The
reference is ``families.reference``'s; the default thresholds are ``DEFAULT_THRESHOLDS``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa

from modelsteward.monitoring.bands import Estimate, wilson
from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult
from modelsteward.monitoring.families.data_quality.quality import ColumnQuality, data_quality
from modelsteward.monitoring.families.reference import open_window
from modelsteward.monitoring.points import Point, judged
from modelsteward.monitoring.specs import DEFAULT_THRESHOLDS, Bound, DataQualitySpec, MonitorSpec
from modelsteward.monitoring.windows.segments import segments
from modelsteward.profiles.dataset import DatasetProfile


def evaluate(spec: DataQualitySpec, ctx: FamilyContext) -> FamilyResult:
    opened = open_window(spec, ctx)
    result = opened.result
    if opened.profile is None:
        return result
    for segment, part in segments(opened.window, spec.segment_by):
        result.points += quality_points(spec, opened.profile, part.inputs, segment)
    return result


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
            bound, basis = spec.bound(metric, column.column), None
            if bound is None and metric == "out_of_range_rate":
                bound, basis = range_bound(defaults[metric], column)
            bound = bound or own.get(metric) or defaults.get(metric)
            if column.status not in ("ok", "issue"):
                status: str = column.status
            elif value is None:
                status = "not enough data"
            else:
                status = "ok" if bound is None or bound.holds(value) else "breached"
            detail: dict[str, Any] = {"kind": column.kind, "rows": column.rows}
            if column.issues:
                detail["issues"] = [str(issue) for issue in column.issues]
            if basis is not None:
                detail["threshold_basis"] = basis
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


def range_bound(default: Bound, column: ColumnQuality) -> tuple[Bound, str | None]:
    """The default out-of-range limit plus what the reference's size explains, and why.

    A threshold set on the monitor is taken as written; the default one is widened by
    ``quality.range_allowance`` so a reference of a few hundred rows does not alarm on
    clean traffic."""
    allowance = column.out_of_range_allowance
    if allowance is None or default.max is None:
        return default, None
    basis = (
        f"{default.max:.0%} plus {allowance:.2%}: the share of fresh values that the "
        f"min-max range of {column.reference_count} reference values misses by chance "
        "(99% bound)"
    )
    return Bound(max=min(1.0, default.max + allowance)), basis


def rate_band(rate: float | None, rows: int) -> tuple[float | None, float | None]:
    """The 95% Wilson band of a share of ``rows`` (so 1 bad row in 10 is not read as 10%)."""
    if rate is None or rows <= 0 or not 0.0 <= rate <= 1.0:
        return None, None
    return wilson(round(rate * rows), rows)


FAMILY = Family(
    spec=DataQualitySpec,
    evaluate=evaluate,
    summary="missing, type violation, out of range and unseen category rates per input "
    "column; duplicate rows and schema changes",
)
