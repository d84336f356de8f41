"""Jensen-Shannon distance (base 2, between 0 and 1) between the two distributions.

The square root of the mean Kullback-Leibler divergence of each side from their mixture:
symmetric, bounded, and defined with empty bins. Default for categorical columns with
more than 1 000 reference values. Numeric columns use ``DriftConfig.bins`` bins of equal
reference mass. Threshold: drift when >= 0.1.
"""

from __future__ import annotations

import numpy as np

from modelsteward.monitoring.drift.base import (
    DriftMethod,
    NumericPair,
    Score,
    chi2_level,
    harmonic_size,
    proportions,
)


def distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    p, q = proportions(ref_counts), proportions(cur_counts)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(np.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def categorical(ref_counts: np.ndarray, cur_counts: np.ndarray) -> Score:
    # Without drift the divergence (in nats) is about (1/n + 1/m) / 8 * chi-square(k - 1).
    size = harmonic_size(int(ref_counts.sum()), int(cur_counts.sum()))
    noise = float(np.sqrt(size / 8 * chi2_level(ref_counts.size - 1) / np.log(2)))
    return Score(distance(ref_counts, cur_counts), None, noise)


def numeric(pair: NumericPair, bins: int) -> Score:
    return categorical(*pair.binned(bins))


METHOD = DriftMethod("jensen_shannon", "Jensen-Shannon distance", 0.1, False, numeric, categorical)
