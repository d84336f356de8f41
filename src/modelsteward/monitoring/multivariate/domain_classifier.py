"""Domain classifier: can a model tell the reference's rows from the window's?

A gradient-boosted tree model (scikit-learn's HistGradientBoostingClassifier, 50 rounds of
15-leaf trees, one thread) is trained to separate the stored reference sample from an
equal number of window rows, and scored by stratified 5-fold cross-validated ROC AUC (the
mean over the folds). 0.5 means the two are indistinguishable; towards 1 the window has
moved, in any direction trees can find: shifted columns, changed correlations, clusters.

Sizes are bounded and seeded: at most ``MAX_CURRENT_ROWS`` window rows are sampled, then
both sides are cut to the smaller of the two, so the cost is that of a few thousand rows
whatever the window. The band is Hanley-McNeil's for that many rows per side; the fold
AUCs are returned too. scikit-learn is an optional extra, imported here only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from modelsteward.monitoring.bands import Z95, Estimate, missing
from modelsteward.monitoring.multivariate.baseline import SAMPLE_DECIMALS

MAX_CURRENT_ROWS = 5_000
MIN_ROWS_PER_SIDE = 25
FOLDS = 5
NOT_INSTALLED = "not available: install modelsteward[sklearn]"


@dataclass(frozen=True)
class DomainAUC:
    estimate: Estimate
    folds: list[float]
    rows_per_side: int


def hanley_mcneil(auc: float, positives: int, negatives: int) -> float:
    """The standard error of an AUC from ``positives`` and ``negatives`` rows."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return math.sqrt(max(variance, 0.0))


def domain_classifier_auc(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    max_rows: int = MAX_CURRENT_ROWS,
    folds: int = FOLDS,
    seed: int = 0,
    decimals: int = SAMPLE_DECIMALS,
) -> DomainAUC:
    """Cross-validated AUC of reference (class 0) against current (class 1) rows, both
    rounded to ``decimals`` (the stored sample's precision)."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold
        from threadpoolctl import threadpool_limits
    except ImportError:
        return DomainAUC(missing(NOT_INSTALLED, current.shape[0]), [], 0)
    rng = np.random.default_rng(seed)
    n = min(reference.shape[0], current.shape[0], max_rows)
    if reference.shape[0] == 0:
        note = "the baseline keeps no reference sample (no room was left in its document)"
        return DomainAUC(missing(note, current.shape[0]), [], 0)
    if n < MIN_ROWS_PER_SIDE:
        note = (
            f"{reference.shape[0]} reference and {current.shape[0]} current rows; "
            f"at least {MIN_ROWS_PER_SIDE} of each needed"
        )
        return DomainAUC(missing(note, current.shape[0]), [], n)
    pick = np.sort(rng.choice(reference.shape[0], n, replace=False))
    take = np.sort(rng.choice(current.shape[0], n, replace=False))
    # Both sides at the stored sample's precision: else trees would separate 0.27 from
    # 0.2698 on a whole-number column and "detect" the rounding.
    x = np.round(np.vstack([reference[pick], current[take]]), decimals)
    y = np.repeat([0, 1], n)
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with threadpool_limits(1):  # a few thousand rows: threads cost more than they give
        for train, test in splitter.split(x, y):
            model = HistGradientBoostingClassifier(
                max_iter=50, max_leaf_nodes=15, early_stopping=False, random_state=seed
            )
            model.fit(x[train], y[train])
            aucs.append(float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])))
    auc = float(np.mean(aucs))
    half = Z95 * hanley_mcneil(auc, n, n)
    estimate = Estimate(auc, max(0.0, auc - half), min(1.0, auc + half), 2 * n)
    return DomainAUC(estimate, aucs, n)
