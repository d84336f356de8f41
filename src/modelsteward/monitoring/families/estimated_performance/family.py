"""Classifier performance estimated without labels (CBPE), and the estimate's own error.

Every window gets estimated accuracy, precision, recall, F1 and ROC AUC from the scores
alone (``estimation``, beside this module), judged like measured performance: by default against
the version's registered metrics less ``tolerance``. The scores are calibrated with, in
order: the version's ``meta["calibration"]``; a map this monitor fitted on the first
window with ``calibration_rows`` labelled rows (kept as its baseline); else none, the
scores taken as calibrated, which the run's detail says. When the window holds labels,
``estimation_error`` is |estimated - realised| of the ``headline`` metric on the
labelled rows, so operators see how far to trust the estimate. Multi-class models get an
estimated accuracy from the confidence of the predicted class (the row's largest
probability column, or a single score column holding that confidence).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from modelsteward.monitoring.bands import Estimate, missing, proportion
from modelsteward.monitoring.families.base import (
    Family,
    FamilyContext,
    FamilyResult,
    too_small,
)
from modelsteward.monitoring.families.estimated_performance import estimation
from modelsteward.monitoring.families.performance.metrics import (
    NEGATIVE_PARTNERS,
    SCORE_NAMES,
    classification,
    positive_of,
    registered_bounds,
)
from modelsteward.monitoring.points import Point, judged
from modelsteward.monitoring.specs import Bound, MonitorSpec, Name
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.monitoring.windows.segments import segments
from modelsteward.store.tables import ModelVersion

Metric = Literal["accuracy", "precision", "recall", "f1", "roc_auc"]
ALIASES = {"auc": "roc_auc"}  # names registered metrics often use
NO_DATA = "not enough data"
# Classes whose partner is known (0 and 1, false and true, no and yes): a lone one tells
# the positive class, any other lone class does not.
CONVENTIONAL = frozenset(NEGATIVE_PARTNERS) | frozenset(NEGATIVE_PARTNERS.values())


class EstimatedPerformanceSpec(MonitorSpec):
    metrics = (*(f"estimated_{m}" for m in estimation.METRICS), "estimation_error")
    type: Literal["estimated_performance"] = "estimated_performance"
    score: Name | None = Field(default=None, description="Output column of the positive score")
    prediction: Name | None = Field(default=None, description="Output column of the class")
    positive_label: str | int | bool | None = None
    classes: Literal["auto", "binary", "multiclass"] = "auto"
    decision_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.5
    headline: Metric = "accuracy"
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.1
    calibration_rows: Annotated[int, Field(ge=20, le=1_000_000)] = 500
    replicates: Annotated[int, Field(ge=20, le=2000)] = 200


def _text(values: pa.ChunkedArray) -> np.ndarray:
    """Classes as comparable text (None where missing); whole numbers lose their ".0"."""
    if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
        return np.array(
            [None if v is None else _number(float(v)) for v in values.to_pylist()], dtype=object
        )
    return np.array([None if v is None else str(v) for v in values.to_pylist()], dtype=object)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _positive(wanted: str | int | bool | None, known: set[str]) -> str | None:
    """The positive class as text: the one named, else the one realised performance
    would take (``positive_of``) for a pair of classes or one conventional class; None
    when the predictions cannot tell (one other class, or more than two)."""
    if wanted is not None:
        return str(wanted).lower() if isinstance(wanted, bool) else str(wanted)
    if len(known) == 2 or (len(known) == 1 and known <= CONVENTIONAL):
        return str(positive_of(np.array(sorted(known), dtype=object)))
    return None


def _labels(window: PredictionWindow) -> np.ndarray:
    """Each row's label as class text (None where no label was posted)."""
    if window.labels is None:
        return np.full(window.rows, None, dtype=object)
    numbers = _text(window.labels.column("label_number"))
    texts = np.array(window.labels.column("label").to_pylist(), dtype=object)
    return np.where(numbers != None, numbers, texts)  # noqa: E711 (elementwise)


class Scored:
    """A window's scores read for estimation, or the ``note`` saying why they cannot be."""

    def __init__(self, spec: EstimatedPerformanceSpec, window: PredictionWindow) -> None:
        outputs, self.note = window.outputs, ""
        names = outputs.column_names
        score = spec.score or next((s for s in SCORE_NAMES if s in names), None)
        per_class = [n for n in names if n.split("_")[0] in SCORE_NAMES and "_" in n]
        self.score_name = score if score in names else None
        self.prediction_name = spec.prediction or next(
            (n for n in ("prediction", *names) if n in names and n != score and n not in per_class),
            None,
        )
        predicted = _text(outputs.column(self.prediction_name)) if self.prediction_name else None
        many = predicted is not None and len({v for v in predicted if v is not None}) > 2
        self.multiclass = spec.classes == "multiclass" or (
            spec.classes == "auto" and (many or len(per_class) > 2)
        )
        columns = per_class if self.multiclass and len(per_class) > 1 else [self.score_name]
        if None in columns or (self.multiclass and predicted is None):
            self.note = (
                "needs positive-class scores (or per-class probabilities): no "
                f"{' / '.join(SCORE_NAMES)} column in the outputs; name it with 'score'"
            )
            return
        values = [outputs.column(c) for c in columns if c is not None]
        if not all(pa.types.is_floating(v.type) or pa.types.is_integer(v.type) for v in values):
            self.note = "scores must be probabilities in [0, 1]"
            return
        matrix = np.column_stack([pc.cast(v, pa.float64()).to_numpy(False) for v in values])
        self.scores = matrix.max(axis=1)
        if not np.all(np.isfinite(self.scores)) or matrix.min() < 0 or matrix.max() > 1:
            self.note = "scores must be probabilities in [0, 1] (none missing)"
            return
        if predicted is None:
            predicted = np.where(self.scores >= spec.decision_threshold, "1", "0").astype(object)
        self.predicted = predicted
        self.positive = _positive(spec.positive_label, {v for v in predicted if v is not None})
        if self.positive is None and not self.multiclass:
            self.note = "set positive_label: the predictions do not tell the positive class"

    def outcomes(self, labels: np.ndarray) -> np.ndarray:
        """What the calibrated score predicts, per row: positive label, or right class."""
        return labels == (self.predicted if self.multiclass else self.positive)

    def estimates(
        self, p: np.ndarray, rows: np.ndarray, spec: EstimatedPerformanceSpec
    ) -> dict[str, Estimate]:
        if self.multiclass:
            return {"accuracy": estimation.expected_share(p[rows])}
        predicted = self.predicted[rows] == self.positive
        ranking = self.scores[rows]
        return estimation.estimate(p[rows], predicted, ranking, replicates=spec.replicates)


def _calibration(
    spec: EstimatedPerformanceSpec,
    ctx: FamilyContext,
    version: ModelVersion | None,
    scored: Scored,
    labels: np.ndarray,
    now: datetime,
) -> tuple[estimation.Calibration, str, dict[str, Any] | None]:
    """The map to calibrate with, where it came from, and a baseline to store (if new)."""
    number = version.version if version is not None else None
    stored = (version.meta or {}).get("calibration") if version is not None else None
    if stored is not None:
        return estimation.Calibration.from_dict(stored), f"metadata of v{number}", None
    baseline = ctx.monitor.baseline or {}
    if baseline.get("version") == number and "calibration" in baseline:
        stored_map = estimation.Calibration.from_dict(baseline["calibration"])
        what = "fitted on" if stored_map.x != estimation.IDENTITY.x else "none needed, checked on"
        return stored_map, f"{what} {baseline.get('rows')} labelled rows of an earlier window", None
    labelled = labels != None  # noqa: E711 (elementwise)
    n = int(labelled.sum())
    outcomes = scored.outcomes(labels[labelled])
    if n >= spec.calibration_rows and 0 < outcomes.sum() < n:
        about = {"version": number, "rows": n, "window_end": now.isoformat()}
        scores = scored.scores[labelled]
        if estimation.calibration_helps(scores, outcomes):
            fitted = estimation.fit_calibration(scores, outcomes)
            source = f"fitted on {n} labelled rows of this window"
        else:
            fitted = replace(estimation.IDENTITY, rows=n)
            source = f"none needed: {n} labelled rows of this window found the scores calibrated"
        return fitted, source, {**about, "calibration": fitted.to_dict()}
    source = (
        f"none: scores taken as calibrated (no calibration in the version's metadata, "
        f"{n} labelled rows and {spec.calibration_rows} needed to fit one)"
    )
    return estimation.IDENTITY, source, None


def _error(
    spec: EstimatedPerformanceSpec, scored: Scored, p: np.ndarray, labels: np.ndarray
) -> Point:
    """|estimated - realised| of the headline metric, both over the labelled rows; its band
    spans the distances from the estimate to the realised metric's 95% band."""
    metric = "accuracy" if scored.multiclass else spec.headline
    rows = labels != None  # noqa: E711 (elementwise)
    n = int(rows.sum())
    detail: dict[str, Any] = {"metric": metric, "labelled_rows": n}
    bound = spec.bound("estimation_error")
    threshold = bound.threshold if bound is not None else None
    estimated = real = missing(f"{n} labelled rows; at least {spec.min_rows} needed", n)
    if n >= spec.min_rows:
        estimated = scored.estimates(p, rows, spec)[metric]
        truth, guess = labels[rows].astype(str), scored.predicted[rows].astype(str)
        if scored.multiclass:
            real = proportion(int((truth == guess).sum()), n)
        else:
            real = classification(
                truth,
                guess,
                scored.scores[rows],
                positive=scored.positive,
                replicates=spec.replicates,
            ).get(metric, missing("only one class among the labels", n))
    if estimated.value is None or real.value is None:
        detail["note"] = estimated.note or real.note
        return Point("estimation_error", None, "", "", None, None, threshold, NO_DATA, detail)
    error = abs(estimated.value - real.value)
    low, high = real.low, real.high
    if low is not None and high is not None:
        gaps = (abs(estimated.value - low), abs(estimated.value - high))
        low, high = (0.0 if low <= estimated.value <= high else min(gaps)), max(gaps)
    detail |= {"estimated": estimated.value, "realised": real.value}
    status = "ok" if bound is None or bound.holds(error) else "breached"
    return Point("estimation_error", error, "", "", low, high, threshold, status, detail)


def evaluate(spec: EstimatedPerformanceSpec, ctx: FamilyContext) -> FamilyResult:
    window = ctx.window(spec, labels=True)
    if window.rows < spec.min_rows:
        return too_small(window.rows, spec, window.start)
    versions = Counter(window.meta.column("version").to_pylist()).most_common(1)
    number = versions[0][0] if versions else None
    version = ctx.version(number)
    result = FamilyResult(window.rows, window.start, version=number)
    result.detail = {"sampled": window.sampled, "total_rows": window.total_rows}
    registered = (version.metrics if version is not None else None) or {}
    named = {ALIASES.get(k, k): v for k, v in registered.items()}
    defaults = {f"estimated_{m}": b for m, b in registered_bounds(named, spec.tolerance).items()}
    scored = Scored(spec, window)
    if scored.note:
        result.detail["note"] = scored.note
        result.points = _unscored(spec, scored, "", defaults, window.rows)
        return result
    calibration, source, result.baseline = _calibration(
        spec, ctx, version, scored, _labels(window), ctx.now
    )
    result.detail["calibration"] = source
    for segment, part in segments(window, spec.segment_by):
        here = Scored(spec, part) if segment else scored
        if here.note:
            result.points += _unscored(spec, here, segment, defaults, part.rows)
            continue
        p = calibration.apply(here.scores)
        everything = np.ones(part.rows, dtype=bool)
        estimates = {f"estimated_{m}": e for m, e in here.estimates(p, everything, spec).items()}
        for point in judged(estimates, spec, segment, defaults):
            point.detail["calibration"] = source
            result.points.append(point)
        result.points.append(replace(_error(spec, here, p, _labels(part)), segment=segment))
    return result


def _unscored(
    spec: EstimatedPerformanceSpec,
    scored: Scored,
    segment: str,
    defaults: dict[str, Bound],
    rows: int,
) -> list[Point]:
    """ "Not enough data" points that carry the reason the scores cannot be used."""
    metrics = ("accuracy",) if scored.multiclass else estimation.METRICS
    estimates = {f"estimated_{m}": missing(scored.note, rows) for m in metrics}
    return judged(estimates, spec, segment, defaults)


FAMILY = Family(
    spec=EstimatedPerformanceSpec,
    evaluate=evaluate,
    summary="classifier performance estimated from calibrated scores (CBPE), no labels",
)
