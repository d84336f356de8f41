"""Population Stability Index: sum over bins of (cur% - ref%) * ln(cur% / ref%).

The credit-risk industry's stability measure, available for every column and the
default for none. Numeric columns use ``DriftConfig.bins`` (10) bins of equal reference
mass; categorical columns use their categories. Empty bins count as 0.01% (as in
Evidently). Threshold: drift when >= 0.1 (0.1-0.25 is commonly read as "moderate",
above 0.25 as "significant").
"""

from __future__ import annotations

import numpy as np

from modelsteward.monitoring.drift.base import (
    PROPORTION_FLOOR,
    DriftMethod,
    NumericPair,
    Score,
    chi2_level,
    harmonic_size,
    proportions,
)


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    p = np.maximum(proportions(ref_counts), PROPORTION_FLOOR)
    q = np.maximum(proportions(cur_counts), PROPORTION_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def categorical(ref_counts: np.ndarray, cur_counts: np.ndarray) -> Score:
    # Without drift PSI is about (1/n + 1/m) * chi-square with k - 1 degrees of freedom.
    noise = harmonic_size(int(ref_counts.sum()), int(cur_counts.sum())) * chi2_level(
        ref_counts.size - 1
    )
    return Score(psi(ref_counts, cur_counts), None, noise)


def numeric(pair: NumericPair, bins: int) -> Score:
    return categorical(*pair.binned(bins))


METHOD = DriftMethod("psi", "Population Stability Index", 0.1, False, numeric, categorical)
