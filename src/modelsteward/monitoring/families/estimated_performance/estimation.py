"""Performance estimated without labels: confidence-based estimation (CBPE) for classifiers.

Labels arrive late or never, but a calibrated score already says how often the model is
right: a row predicted positive with calibrated score p is a true positive with
probability p and a false positive otherwise. Summing gives the expected confusion
matrix, hence expected accuracy, precision, recall and F1, and the area under the
expected ROC curve (the estimators of NannyML's CBPE). The estimate holds under
covariate shift (the inputs move, P(y | x) does not) and misses concept shift, which
only labels reveal: the monitor reports its error against them when some arrive.

Calibration is an isotonic map (pool adjacent violators, in NumPy) fitted on labelled
reference scores and stored as JSON. Bands: even a perfectly calibrated model's realised
metric varies, since each label is a Bernoulli(p) draw. Accuracy and precision are
Poisson-binomial shares with an exact variance (normal band); recall, F1 and ROC AUC
get a seeded simulation of those draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.bands import Z95, Estimate, missing

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class Calibration:
    """A monotone map from raw score to probability: linear between the points ``x, y``,
    flat beyond them. The identity (``rows == 0``) stands for "assumed calibrated"."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    rows: int = 0

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(scores, self.x, self.y)

    def to_dict(self) -> dict[str, Any]:
        return {"method": "isotonic", "x": list(self.x), "y": list(self.y), "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Any) -> Calibration:
        """A stored map, checked: InvalidInput says what is wrong with it."""
        if not isinstance(data, dict) or data.get("method") != "isotonic":
            raise InvalidInput("a calibration is {'method': 'isotonic', 'x': [...], 'y': [...]}")
        try:
            x = np.asarray(data["x"], dtype=np.float64)
            y = np.asarray(data["y"], dtype=np.float64)
            rows = int(data.get("rows", 0))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("a calibration's 'x' and 'y' must be lists of numbers") from None
        if x.ndim != 1 or x.shape != y.shape or x.size == 0:
            raise InvalidInput("a calibration's 'x' and 'y' must be equally long, non-empty lists")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InvalidInput("a calibration's points must be finite")
        if np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0) or y.min() < 0 or y.max() > 1:
            raise InvalidInput("a calibration must rise monotonically to values in [0, 1]")
        return cls(tuple(x.tolist()), tuple(y.tolist()), rows)


IDENTITY = Calibration((0.0, 1.0), (0.0, 1.0))


def fit_calibration(scores: np.ndarray, outcomes: np.ndarray) -> Calibration:
    """Isotonic regression of ``outcomes`` (bool) on ``scores`` by pool adjacent violators;
    it agrees with scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``."""
    scores = np.asarray(scores, dtype=np.float64)
    outcomes = np.asarray(outcomes, dtype=bool)
    if scores.shape != outcomes.shape or scores.size < 2:
        raise InvalidInput("calibration needs at least two scores, each with its outcome")
    if not np.all(np.isfinite(scores)):
        raise InvalidInput("calibration scores must be finite numbers")
    if outcomes.all() or not outcomes.any():
        raise InvalidInput("calibration needs both outcomes among the labelled rows")
    values, inverse = np.unique(scores, return_inverse=True)
    weights = np.bincount(inverse).astype(np.float64)
    sums = np.bincount(inverse, weights=outcomes.astype(np.float64))
    # blocks as [first value index, last value index, weight, sum]; merge while they fall
    blocks: list[list[float]] = []
    for i in range(values.size):
        blocks.append([i, i, weights[i], sums[i]])
        while len(blocks) > 1 and blocks[-2][3] / blocks[-2][2] >= blocks[-1][3] / blocks[-1][2]:
            merged = blocks.pop()
            blocks[-1][1], blocks[-1][2] = merged[1], blocks[-1][2] + merged[2]
            blocks[-1][3] += merged[3]
    x: list[float] = []
    y: list[float] = []
    for first, last, weight, total in blocks:
        for end in dict.fromkeys((int(first), int(last))):
            x.append(float(values[end]))
            y.append(total / weight)
    return Calibration(tuple(x), tuple(y), int(scores.size))


def calibration_helps(scores: np.ndarray, outcomes: np.ndarray, folds: int = 5) -> bool:
    """Whether an isotonic map lowers the Brier score of held-out rows significantly
    (seeded k-fold, one-sided paired z at 5%).

    Scores that are calibrated already lose a little to the map's noise where the
    reference is sparse, so the map is kept only when it earns its place (as NannyML
    decides whether to calibrate)."""
    scores = np.asarray(scores, dtype=np.float64)
    outcomes = np.asarray(outcomes, dtype=bool)
    fold = np.random.default_rng(0).permutation(scores.size) % folds
    gains = np.zeros(scores.size)
    for k in range(folds):
        held, kept = fold == k, fold != k
        if outcomes[kept].all() or not outcomes[kept].any():
            return False
        mapped = fit_calibration(scores[kept], outcomes[kept]).apply(scores[held])
        truth = outcomes[held].astype(np.float64)
        gains[held] = (np.clip(scores[held], 0, 1) - truth) ** 2 - (mapped - truth) ** 2
    spread = float(gains.std(ddof=1))
    return spread > 0 and float(gains.mean()) / spread * math.sqrt(gains.size) > 1.645


def checked_probabilities(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.size and (not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1):
        raise InvalidInput("scores must be probabilities in [0, 1]")
    return p


def expected_share(q: np.ndarray, note: str = "no rows") -> Estimate:
    """The expected share of successes among independent Bernoulli(q) rows, with the
    normal band of its Poisson-binomial distribution."""
    n = int(q.size)
    if n == 0:
        return missing(note)
    value = float(q.mean())
    half = Z95 * math.sqrt(float((q * (1 - q)).sum())) / n
    return Estimate(value, max(0.0, value - half), min(1.0, value + half), n)


def expected_auc(p: np.ndarray, ranking: np.ndarray) -> float:
    """Area under the expected ROC curve: each pair (i, j), i != j, is a positive-negative
    pair with probability p_i (1 - p_j), ordered right when i ranks above j (ties half)."""
    negative = 1 - p
    _, group = np.unique(ranking, return_inverse=True)
    positives = np.bincount(group, weights=p)
    negatives = np.bincount(group, weights=negative)
    below = np.cumsum(negatives) - negatives
    self_pairs = float((p * negative).sum())
    ordered = float((positives * (below + 0.5 * negatives)).sum()) - 0.5 * self_pairs
    pairs = float(p.sum()) * float(negative.sum()) - self_pairs
    return ordered / pairs if pairs > 0 else math.nan


def estimate(
    p: np.ndarray,
    predicted: np.ndarray,
    ranking: np.ndarray | None = None,
    *,
    replicates: int = 200,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Estimated accuracy, precision, recall, F1 and ROC AUC of a binary classifier from
    calibrated positive-class probabilities ``p`` and its predicted positives (bool);
    ``ranking`` orders rows for the AUC (the raw scores; by default ``p``)."""
    p = checked_probabilities(p)
    predicted = np.asarray(predicted, dtype=bool)
    if predicted.shape != p.shape:
        raise InvalidInput("each score needs its prediction")
    n = int(p.size)
    if n == 0:
        return {m: missing("no rows") for m in METRICS}
    ranking = p if ranking is None else np.asarray(ranking, dtype=np.float64)
    tp, fp = float(p[predicted].sum()), float((1 - p[predicted]).sum())
    fn = float(p[~predicted].sum())
    out = {
        "accuracy": expected_share(np.where(predicted, p, 1 - p)),
        "precision": expected_share(p[predicted], "no positive predictions"),
    }
    simulated = _simulated(p, predicted, ranking, replicates, seed)
    values = {
        "recall": tp / (tp + fn) if tp + fn > 0 else math.nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else math.nan,
        "roc_auc": expected_auc(p, ranking),
    }
    notes = {
        "recall": "the scores expect no positives",
        "f1": "the scores expect no positives",
        "roc_auc": "the scores expect only one class",
    }
    for metric, value in values.items():
        if not math.isfinite(value):
            out[metric] = missing(notes[metric], n)
            continue
        low, high = simulated[metric]
        out[metric] = Estimate(value, min(low, value), max(high, value), n)
    return out


def _simulated(
    p: np.ndarray, predicted: np.ndarray, ranking: np.ndarray, replicates: int, seed: int
) -> dict[str, tuple[float, float]]:
    """2.5% and 97.5% quantiles of recall, F1 and ROC AUC over label draws y ~ Bernoulli(p)."""
    rng = np.random.default_rng(seed)
    ranks = rankdata(ranking)
    n, predicted_count = p.size, int(predicted.sum())
    draws = np.full((replicates, 3), np.nan)
    for r in range(replicates):
        y = rng.random(n) < p
        positives = int(y.sum())
        tp = int((y & predicted).sum())
        if positives:
            draws[r, 0] = tp / positives
            draws[r, 1] = 2 * tp / (predicted_count + positives)
        if 0 < positives < n:
            rank_sum = float(ranks[y].sum())
            draws[r, 2] = (rank_sum - positives * (positives + 1) / 2) / (
                positives * (n - positives)
            )
    bands = {}
    for k, metric in enumerate(("recall", "f1", "roc_auc")):
        column = draws[:, k][np.isfinite(draws[:, k])]
        low, high = np.quantile(column, [0.025, 0.975]) if column.size else (math.nan, math.nan)
        bands[metric] = (float(low), float(high))
    return bands
