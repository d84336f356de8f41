"""Two-sample Kolmogorov-Smirnov: the largest gap between the two empirical CDFs.

Default for numeric columns with at most 1 000 reference values (``DriftConfig.large_sample``):
on small samples its p-value is well calibrated, on large ones it flags differences too
small to matter. Threshold: drift when p < 0.05. The p-value is SciPy's exact one up to
10 000 values a side, Smirnov's asymptotic formula beyond (as ``ks_2samp(method="asymp")``).
"""

from __future__ import annotations

import numpy as np

from modelsteward.monitoring.drift.base import (
    BAND_LEVEL,
    DriftMethod,
    NumericPair,
    Score,
    harmonic_size,
)

# c(alpha) of the two-sample KS test: sqrt(-ln(alpha / 2) / 2) at alpha = 1 - BAND_LEVEL
_C_ALPHA = float(np.sqrt(-np.log((1 - BAND_LEVEL) / 2) / 2))


def score(pair: NumericPair, bins: int) -> Score:
    statistic, p_value = pair.ks()
    return Score(
        statistic, p_value, _C_ALPHA * float(np.sqrt(harmonic_size(pair.n_ref, pair.n_cur)))
    )


METHOD = DriftMethod("ks", "Kolmogorov-Smirnov", 0.05, True, score, None)
