"""Wasserstein (earth mover's) distance divided by the reference's standard deviation.

How far, in reference standard deviations, the current values had to move to match the
reference: size-independent, so the default for numeric columns with more than 1 000
reference values. Threshold: drift when >= 0.1. A constant reference column (std 0)
is normalised by |mean| instead, or not at all when that is 0 too.
"""

from __future__ import annotations

import numpy as np

from modelsteward.monitoring.drift.base import DriftMethod, NumericPair, Score, harmonic_size

# Without drift E[W1] ~ sqrt(2/pi) * integral(sqrt(F(1-F))) * sqrt(1/n + 1/m); for a normal
# reference the integral is 1.61 std. The band takes twice that mean as its 95% level.
_NOISE = 2 * float(np.sqrt(2 / np.pi)) * 1.61


def scale(pair: NumericPair) -> float:
    if pair.ref_std > 0:
        return pair.ref_std
    return abs(pair.ref_mean) if pair.ref_mean != 0 else 1.0


def score(pair: NumericPair, bins: int) -> Score:
    statistic = pair.wasserstein() / scale(pair)
    noise = _NOISE * float(np.sqrt(harmonic_size(pair.n_ref, pair.n_cur)))
    return Score(statistic, None, noise)


METHOD = DriftMethod("wasserstein", "Wasserstein distance (normalised)", 0.1, False, score, None)
