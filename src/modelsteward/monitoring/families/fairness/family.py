"""The ``fairness`` family: decisions compared across the groups of a protected attribute.

Each run reads its window with labels joined (where posted) and gives, over the groups
of ``attribute`` (an input column, else a column of the request meta such as ``route``):
``demographic_parity_difference`` (default at most 0.1), ``equalized_odds_difference``
(at most 0.1; "not enough data" without labels) and ``disparate_impact_ratio`` (at least
0.8, the four-fifths rule), each point's column the attribute; and one
``selection_rate`` point per group, its column the group's value (bounded through
``column_thresholds``: ``{"F": {"selection_rate": {"min": 0.2}}}``). The maths and the
rules for small groups are in ``monitoring.families.fairness.measures``.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.bands import Estimate
from modelsteward.monitoring.families.base import (
    Family,
    FamilyContext,
    FamilyResult,
    too_small,
)
from modelsteward.monitoring.families.fairness.measures import MEASURES, fairness
from modelsteward.monitoring.families.performance.metrics import positive_of
from modelsteward.monitoring.points import Point
from modelsteward.monitoring.specs import Bound, MonitorSpec, Name
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.monitoring.windows.segments import segments

MAX_CLASSES = 20
DEFAULTS = {
    "demographic_parity_difference": Bound(max=0.1),
    "equalized_odds_difference": Bound(max=0.1),
    "disparate_impact_ratio": Bound(min=0.8),
}


class FairnessSpec(MonitorSpec):
    metrics = (*MEASURES, "selection_rate")
    type: Literal["fairness"] = "fairness"
    attribute: Name = Field(description="The protected attribute: an input or meta column")
    prediction: Name | None = Field(default=None, description="Output column of the class")
    positive_label: str | int | float | bool | None = None
    bootstrap: Annotated[int, Field(ge=20, le=2000)] = 200


def text_of(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Values as comparable text (None where missing): 1.0 reads "1", True reads "true"."""
    out: list[str | None] = []
    for value in values.to_pylist():
        if value is None:
            out.append(None)
        elif isinstance(value, bool):
            out.append(str(value).lower())
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return np.array(out, dtype=object)


def label_text(labels: pa.Table) -> np.ndarray:
    """Each row's label as class text: numeric labels read like numeric predictions."""
    numbers = text_of(labels.column("label_number"))
    texts = text_of(labels.column("label"))
    return np.where(numbers != None, numbers, texts)  # noqa: E711


def _positive(spec: FairnessSpec, predicted: np.ndarray) -> str:
    if spec.positive_label is not None:
        return str(text_of(pa.array([spec.positive_label]))[0])
    classes = np.unique(predicted.astype(str))
    if classes.size > MAX_CLASSES:
        raise InvalidInput(
            f"the prediction has {classes.size} distinct values, not classes: name the "
            "favourable class with 'positive_label' or a class column with 'prediction'"
        )
    return str(positive_of(classes)) if classes.size else "1"


def judge(metric: str, estimate: Estimate, bound: Bound | None, column: str, segment: str) -> Point:
    """A point: "not enough data" without a value, else ok or breached against ``bound``."""
    detail: dict[str, Any] = {"n": estimate.n}
    if estimate.note:
        detail["note"] = estimate.note
    if bound is not None:
        detail["direction"] = "max" if bound.max is not None else "min"
    status = "not enough data"
    if estimate.value is not None:
        status = "ok" if bound is None or bound.holds(estimate.value) else "breached"
    threshold = bound.threshold if bound is not None else None
    low, high = estimate.low, estimate.high
    return Point(metric, estimate.value, column, segment, low, high, threshold, status, detail)


def window_fairness(
    spec: FairnessSpec, window: PredictionWindow, segment: str = ""
) -> tuple[list[Point], dict[str, Any]]:
    """The points of one window (or segment) and what the run's detail says about it."""
    source = window.inputs if spec.attribute in window.inputs.column_names else window.meta
    outputs = window.outputs
    name = spec.prediction or next(
        (c for c in ("prediction", *outputs.column_names) if c in outputs.column_names), None
    )
    predicted = text_of(outputs.column(name)) if name else np.array([], dtype=object)
    answered = predicted != None  # noqa: E711
    groups = text_of(source.column(spec.attribute))[answered]
    predicted = predicted[answered]
    positive = _positive(spec, predicted)
    actual = labelled = None
    if window.labels is not None:
        labels = label_text(window.labels)[answered]
        labelled = labels != None  # noqa: E711
        actual = labels == positive
    result = fairness(
        predicted == positive,
        groups,
        actual,
        labelled,
        min_rows=spec.min_rows,
        replicates=spec.bootstrap,
    )
    points = [
        judge(m, e, spec.bound(m, spec.attribute) or DEFAULTS[m], spec.attribute, segment)
        for m, e in result.estimates.items()
    ]
    for group, estimate in result.selection_rates.items():
        bound = spec.bound("selection_rate", group[:128])
        points.append(judge("selection_rate", estimate, bound, group[:128], segment))
    detail = {"groups": result.group_rows, "positive": positive, "prediction": name}
    left_out = list(result.left_out)
    if not answered.all():
        left_out.insert(0, f"{int((~answered).sum())} rows without a prediction")
    if left_out:
        detail["left_out"] = left_out
    if labelled is not None:
        detail["labelled_rows"] = int(labelled.sum())
    return points, detail


def _missing_column(spec: FairnessSpec, window: PredictionWindow) -> str | None:
    if spec.attribute not in window.inputs.column_names + window.meta.column_names:
        inputs = ", ".join(window.inputs.column_names) or "none"
        return (
            f"the protected attribute {spec.attribute!r} is neither an input column nor a "
            f"request meta column; input columns: {inputs}"
        )
    wanted = spec.prediction
    if wanted is not None and wanted not in window.outputs.column_names:
        return f"the outputs have no column {wanted!r}: {', '.join(window.outputs.column_names)}"
    if not window.outputs.column_names:
        return "the outputs have no prediction column"
    return None


def evaluate(spec: FairnessSpec, ctx: FamilyContext) -> FamilyResult:
    window = ctx.window(spec, labels=True)
    if window.rows < spec.min_rows:
        return too_small(window.rows, spec, window.start)
    versions = window.meta.column("version").to_pylist()
    version = Counter(versions).most_common(1)[0][0]
    detail: dict[str, Any] = {"attribute": spec.attribute, "sampled": window.sampled}
    detail["total_rows"] = window.total_rows
    problem = _missing_column(spec, window)
    if problem is not None:
        return FamilyResult(
            window.rows,
            window.start,
            status="column missing",
            detail=detail | {"note": problem},
            version=version,
        )
    result = FamilyResult(window.rows, window.start, detail=detail, version=version)
    for segment, part in segments(window, spec.segment_by):
        points, about = window_fairness(spec, part, segment)
        result.points += points
        if not segment:
            result.detail |= about
    return result


FAMILY = Family(
    spec=FairnessSpec,
    evaluate=evaluate,
    summary="Demographic parity, equalised odds and disparate impact across a protected "
    "attribute's groups",
)
