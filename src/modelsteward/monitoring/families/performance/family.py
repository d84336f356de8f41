"""The ``performance`` family: realised metrics over the window's labelled rows.

The window is read with the labels posted for its requests; ``metrics`` beside it
computes classification or regression metrics with their bands, judged by default
against the dominant version's registered metrics within ``tolerance``.
"""

from __future__ import annotations

from typing import Any

from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult, too_small
from modelsteward.monitoring.families.performance.metrics import window_performance
from modelsteward.monitoring.specs import PerformanceSpec
from modelsteward.monitoring.windows.segments import dominant_version, segments


def evaluate(spec: PerformanceSpec, ctx: FamilyContext) -> FamilyResult:
    window = ctx.window(spec, labels=True)
    if window.rows < spec.min_rows:
        return too_small(window.rows, spec, window.start)
    number = dominant_version(window)
    version = ctx.version(number)
    detail: dict[str, Any] = {"sampled": window.sampled, "total_rows": window.total_rows}
    result = FamilyResult(window.rows, window.start, detail=detail, version=number)
    registered = version.metrics if version is not None else {}
    for segment, part in segments(window, spec.segment_by):
        result.points += window_performance(spec, part, registered, segment)
    return result


FAMILY = Family(
    spec=PerformanceSpec,
    evaluate=evaluate,
    summary="accuracy, precision, recall, F1, ROC AUC... or MAE, RMSE, MAPE, R2 once labels arrive",
)
