"""Drift points: a drift_score per column with its no-drift band, and the data set's drift_share."""

from __future__ import annotations

from typing import Any

from modelsteward.monitoring.drift import DriftResult
from modelsteward.monitoring.points import Point


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
