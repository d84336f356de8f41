"""Tests of a challenger against a champion: each gives a delta, its 95% band, a p-value.

Deltas are challenger minus champion. Paired tests serve rows both answered (a shadow's
copy of a champion request): McNemar's exact test on who alone was right, and the paired
t-test (Wilcoxon's signed-rank p-value beside it, for heavy tails). Unpaired tests serve
different requests (a canary or A/B split): the pooled two-proportion z-test and Welch's
t-test. p-values are scipy's (``binomtest``, ``ttest_rel``, ``wilcoxon``, ``ttest_ind``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from modelsteward.monitoring.bands import Z95


@dataclass(frozen=True)
class Delta:
    """A challenger-minus-champion difference, its 95% band and its test's p-value."""

    metric: str
    value: float
    low: float
    high: float
    p_value: float | None
    detail: dict[str, Any] = field(default_factory=dict)


def mcnemar(right_a: np.ndarray, right_b: np.ndarray) -> Delta:
    """McNemar's exact test on the discordant pairs; the band is the paired Wald interval."""
    n = int(right_a.size)
    lost, won = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    delta = (won - lost) / n
    p = float(stats.binomtest(lost, lost + won, 0.5).pvalue) if lost + won else 1.0
    half = Z95 * math.sqrt(max((lost + won) / n - delta**2, 0.0) / n)
    detail = {"n": n, "test": "McNemar exact", "champion": float(right_a.mean())}
    detail |= {"champion_only_right": lost, "challenger_only_right": won}
    return Delta(
        "accuracy_delta", delta, max(-1.0, delta - half), min(1.0, delta + half), p, detail
    )


def paired_t(metric: str, a: np.ndarray, b: np.ndarray, wilcoxon: bool = False) -> Delta:
    """Paired t-test of b - a (a Wilcoxon signed-rank p-value in detail, if asked)."""
    d = b - a
    delta = float(d.mean())
    detail: dict[str, Any] = {"n": int(d.size), "test": "paired t", "champion": float(a.mean())}
    if np.ptp(d) == 0:  # every pair differs by the same amount: nothing to test against
        return Delta(metric, delta, delta, delta, 1.0 if delta == 0 else 0.0, detail)
    result = stats.ttest_rel(b, a)
    band = result.confidence_interval(0.95)
    if wilcoxon:
        with warnings.catch_warnings():  # small samples warn that the p-value is approximate
            warnings.simplefilter("ignore")
            detail["wilcoxon_p_value"] = float(stats.wilcoxon(b, a).pvalue)
    return Delta(metric, delta, float(band.low), float(band.high), float(result.pvalue), detail)


def two_proportions(right_a: np.ndarray, right_b: np.ndarray) -> Delta:
    """Two-proportion z-test (pooled); the band is the unpooled Wald interval."""
    na, nb = int(right_a.size), int(right_b.size)
    pa_, pb_ = float(right_a.mean()), float(right_b.mean())
    pooled = (right_a.sum() + right_b.sum()) / (na + nb)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    delta = pb_ - pa_
    p = float(2 * stats.norm.sf(abs(delta) / se0)) if se0 > 0 else 1.0
    half = Z95 * math.sqrt(pa_ * (1 - pa_) / na + pb_ * (1 - pb_) / nb)
    detail: dict[str, Any] = {"n": na + nb, "test": "two-proportion z", "champion": pa_}
    detail |= {"champion_rows": na, "challenger_rows": nb}
    return Delta(
        "accuracy_delta", delta, max(-1.0, delta - half), min(1.0, delta + half), p, detail
    )


def welch(metric: str, a: np.ndarray, b: np.ndarray) -> Delta:
    """Welch's t-test of mean(b) - mean(a)."""
    delta = float(b.mean() - a.mean())
    detail: dict[str, Any] = {"n": int(a.size + b.size), "test": "Welch t"}
    detail |= {
        "champion_rows": int(a.size),
        "challenger_rows": int(b.size),
        "champion": float(a.mean()),
    }
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return Delta(metric, delta, delta, delta, 1.0 if delta == 0 else 0.0, detail)
    result = stats.ttest_ind(b, a, equal_var=False)
    band = result.confidence_interval(0.95)
    return Delta(metric, delta, float(band.low), float(band.high), float(result.pvalue), detail)
