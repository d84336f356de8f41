"""Model performance once labels arrive: classification and regression metrics with a band.

Each metric comes with a 95% sampling band so a small window is not mistaken for a change:
Wilson intervals for proportions (accuracy, precision, recall), a normal interval for
means of per-row losses (log loss, MAE, MAPE), Hanley-McNeil for ROC AUC, and a
percentile bootstrap (seeded, so runs are reproducible) for the rest. Values agree with
scikit-learn's to 1e-9; the calibration error is the equal-width binned ECE.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import rankdata

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.bands import Z95, Estimate, bootstrap, mean_of, missing, proportion
from modelsteward.monitoring.points import Point, judged
from modelsteward.monitoring.specs import Bound, PerformanceSpec
from modelsteward.monitoring.windows import PredictionWindow

EPS = float(np.finfo(np.float64).eps)


# -- classification -----------------------------------------------------------------------


# The conventional negative of a binary class pair, and its positive partner.
NEGATIVE_PARTNERS = {"0": "1", "false": "true", "False": "True", "no": "yes"}


def positive_of(classes: np.ndarray, chosen: object = None) -> object:
    """The positive class: the one given, else 1 / "1" / "true" / "yes", else the last.

    A window holding only a conventional negative (every prediction 0, "false" or "no")
    has its positive absent: the partner is returned, never the negative itself."""
    if chosen is not None:
        return chosen
    for candidate in (1, "1", "true", "True", "yes"):
        for value in classes:
            if value == candidate or str(value) == str(candidate):
                return value
    partners = {NEGATIVE_PARTNERS.get(str(value)) for value in classes}
    if len(partners) == 1 and None not in partners:
        return _like(classes[0], str(partners.pop()))
    return classes[-1]


def _like(value: object, text: str) -> object:
    """``text`` as a value of ``value``'s type (1 for 0, True for False, "yes" for "no")."""
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, int | np.integer):
        return type(value)(int(text))
    return type(value)(text) if isinstance(value, str) else text


def roc_auc(y: np.ndarray, scores: np.ndarray) -> Estimate:
    """Mann-Whitney AUC (ties count half), with the Hanley-McNeil standard error."""
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return missing("only one class in the labels", int(y.size))
    ranks = rankdata(scores)
    auc = (ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    half = Z95 * math.sqrt(max(variance, 0.0))
    return Estimate(float(auc), max(0.0, auc - half), min(1.0, auc + half), int(y.size))


def calibration_error(y: np.ndarray, p: np.ndarray, bins: int) -> float:
    """Expected calibration error: |observed rate - mean score| per equal-width bin, weighted."""
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    observed = np.bincount(which, weights=y.astype(np.float64), minlength=bins)
    predicted = np.bincount(which, weights=p, minlength=bins)
    filled = counts > 0
    gap = np.abs(observed[filled] - predicted[filled])
    return float(gap.sum() / max(p.size, 1))


def _f1(tp: float, predicted: float, actual: float) -> float:
    return 2 * tp / (predicted + actual) if predicted + actual else 0.0


def classification(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: np.ndarray | None = None,
    *,
    positive: object = None,
    bins: int = 10,
    replicates: int = 200,
) -> dict[str, Estimate]:
    """Accuracy, precision, recall, F1 (binary, or macro over classes) and, with scores of
    the positive class, ROC AUC, log loss and calibration error."""
    n = int(y_true.size)
    if n == 0:
        return {m: missing("no labelled rows") for m in ("accuracy", "precision", "recall", "f1")}
    correct = y_true == y_pred
    out = {"accuracy": proportion(int(correct.sum()), n)}
    classes = np.unique(np.concatenate([y_true, y_pred]))
    if classes.size <= 2:
        pos = positive_of(classes, positive)
        actual, predicted = y_true == pos, y_pred == pos
        tp = int((actual & predicted).sum())
        out["precision"] = proportion(tp, int(predicted.sum()), "no positive predictions")
        out["recall"] = proportion(tp, int(actual.sum()), "no positive labels")
        f1 = _f1(tp, int(predicted.sum()), int(actual.sum()))

        def f1_of(i: np.ndarray) -> float:
            a, p = actual[i], predicted[i]
            return _f1(float((a & p).sum()), float(p.sum()), float(a.sum()))

        out["f1"] = Estimate(f1, *bootstrap(f1_of, n, replicates), n)
        if scores is not None:
            out |= _scored(actual, scores.astype(np.float64), bins, replicates)
        return out

    def macro(i: np.ndarray) -> tuple[float, float, float]:
        t, p = y_true[i], y_pred[i]
        precisions, recalls, f1s = [], [], []
        for c in classes:
            a, q = t == c, p == c
            hit = float((a & q).sum())
            precisions.append(hit / q.sum() if q.sum() else 0.0)
            recalls.append(hit / a.sum() if a.sum() else 0.0)
            f1s.append(_f1(hit, float(q.sum()), float(a.sum())))
        return float(np.mean(precisions)), float(np.mean(recalls)), float(np.mean(f1s))

    everything = np.arange(n)
    for k, name in enumerate(("precision", "recall", "f1")):
        band = bootstrap(lambda i, k=k: macro(i)[k], n, replicates)  # type: ignore[misc]
        out[name] = Estimate(macro(everything)[k], *band, n, note="macro average")
    return out


def _scored(actual: np.ndarray, p: np.ndarray, bins: int, replicates: int) -> dict[str, Estimate]:
    n = int(p.size)
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        bad = missing("scores must be probabilities in [0, 1]", n)
        return {"roc_auc": roc_auc(actual, p), "log_loss": bad, "calibration_error": bad}
    clipped = np.clip(p, EPS, 1 - EPS)
    losses = -np.where(actual, np.log(clipped), np.log1p(-clipped))
    ece = calibration_error(actual, p, bins)
    band = bootstrap(lambda i: calibration_error(actual[i], p[i], bins), n, replicates)
    return {
        "roc_auc": roc_auc(actual, p),
        "log_loss": mean_of(losses),
        "calibration_error": Estimate(ece, *band, n),
    }


# -- regression -----------------------------------------------------------------------------


def regression(
    y_true: np.ndarray, y_pred: np.ndarray, *, replicates: int = 200
) -> dict[str, Estimate]:
    """MAE, RMSE, MAPE and R2 (the last None when the labels are constant)."""
    n = int(y_true.size)
    if n == 0:
        return {m: missing("no labelled rows") for m in ("mae", "rmse", "mape", "r2")}
    error = y_true - y_pred
    squared = error**2

    def rmse_of(i: np.ndarray) -> float:
        return float(np.sqrt(squared[i].mean()))

    def r2_of(i: np.ndarray) -> float:
        t = y_true[i]
        total = float(((t - t.mean()) ** 2).sum())
        return 1 - float(squared[i].sum()) / total if total > 0 else math.nan

    out = {
        "mae": mean_of(np.abs(error)),
        "rmse": Estimate(rmse_of(np.arange(n)), *bootstrap(rmse_of, n, replicates), n),
        "mape": mean_of(np.abs(error) / np.maximum(np.abs(y_true), EPS)),
    }
    r2 = r2_of(np.arange(n))
    out["r2"] = (
        Estimate(r2, *bootstrap(r2_of, n, replicates), n)
        if math.isfinite(r2)
        else missing("the labels are constant", n)
    )
    return out


# -- from a window of logged predictions and labels ----------------------------------------

SCORE_NAMES = ("probability", "score", "proba", "prob")
LOWER_IS_BETTER = frozenset({"log_loss", "calibration_error", "mae", "rmse", "mape"})
HEADLINE = {
    "classification": ("accuracy", "precision", "recall", "f1"),
    "regression": ("mae", "rmse", "mape", "r2"),
}


def registered_bounds(registered: dict[str, Any], tolerance: float) -> dict[str, Bound]:
    """Default thresholds from the metrics a version was registered with, within tolerance."""
    bounds = {}
    for metric, value in registered.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        margin = tolerance * abs(value)
        if metric in LOWER_IS_BETTER:
            bounds[metric] = Bound(max=value + margin)
        elif metric in ("accuracy", "precision", "recall", "f1", "roc_auc", "r2"):
            bounds[metric] = Bound(min=value - margin)
    return bounds


def _as_text(values: pa.ChunkedArray) -> np.ndarray:
    """Class labels as text, with whole numbers written without a decimal point."""
    if pa.types.is_floating(values.type):
        return np.array(
            [str(int(v)) if float(v).is_integer() else str(v) for v in values.to_numpy()]
        )
    return np.asarray(pc.cast(values, pa.string()).to_pylist(), dtype=object)


def _task(spec: PerformanceSpec, labels: pa.Table, predicted: pa.ChunkedArray) -> str:
    if spec.task != "auto":
        return spec.task
    numbers = labels.column("label_number")
    if numbers.null_count or not pa.types.is_floating(predicted.type):
        return "classification"
    label_values = numbers.to_numpy()
    whole = np.all(np.mod(label_values, 1) == 0) and np.all(np.mod(predicted.to_numpy(), 1) == 0)
    return "classification" if whole and np.unique(label_values).size <= 20 else "regression"


def window_performance(
    spec: PerformanceSpec, window: PredictionWindow, registered: dict[str, Any], segment: str = ""
) -> list[Point]:
    """The performance points of one window (or segment) over its labelled rows."""
    defaults = registered_bounds(registered, spec.tolerance)
    labels = (
        window.labels
        if window.labels is not None
        else pa.table({"label": pa.array([], pa.string())})
    )
    has_label = pc.is_valid(labels.column("label"))
    labels, outputs = labels.filter(has_label), window.outputs.filter(has_label)
    n = labels.num_rows
    name = spec.prediction or next(
        (c for c in ("prediction", *outputs.column_names) if c in outputs.column_names), None
    )
    count = Estimate(float(n), n=n)
    if n < spec.min_rows or name is None:
        note = (
            f"{n} labelled rows; at least {spec.min_rows} needed"
            if name is not None
            else "the outputs have no prediction column"
        )
        headline = HEADLINE["regression" if spec.task == "regression" else "classification"]
        estimates = {m: missing(note, n) for m in headline}
        points = judged(estimates, spec, segment, defaults)
        return [*points, Point("labelled_rows", float(n), "", segment, status="not enough data")]
    predicted = outputs.column(name)
    task = _task(spec, labels, predicted)
    if task == "regression":
        estimates = regression(
            labels.column("label_number").to_numpy(),
            pc.cast(predicted, pa.float64()).to_numpy(zero_copy_only=False),
            replicates=spec.bootstrap,
        )
    else:
        estimates = _classify(spec, labels, outputs, predicted)
    estimates["labelled_rows"] = count
    return judged(estimates, spec, segment, defaults)


def _classify(
    spec: PerformanceSpec, labels: pa.Table, outputs: pa.Table, predicted: pa.ChunkedArray
) -> dict[str, Estimate]:
    numbers = labels.column("label_number")
    numeric = numbers.null_count == 0 and pa.types.is_floating(predicted.type)
    positive: object = spec.positive_label
    if numeric:
        y_true, y_pred = numbers.to_numpy(), predicted.to_numpy()
        if isinstance(positive, int | float | str):
            try:
                positive = float(positive)
            except ValueError:
                raise InvalidInput(
                    f"positive_label {positive!r} is not a number, but the labels are"
                ) from None
    else:
        y_true = np.asarray(labels.column("label").to_pylist(), dtype=object)
        y_pred = _as_text(predicted)
        if isinstance(positive, bool):
            positive = str(positive).lower()
        elif positive is not None:
            positive = str(positive)
    score_name = spec.score or next((s for s in SCORE_NAMES if s in outputs.column_names), None)
    scores = None
    if score_name in outputs.column_names:
        column = outputs.column(score_name)
        if column.null_count == 0 and pa.types.is_floating(column.type):
            scores = column.to_numpy()
    return classification(
        y_true,
        y_pred,
        scores,
        positive=positive,
        bins=spec.calibration_bins,
        replicates=spec.bootstrap,
    )
