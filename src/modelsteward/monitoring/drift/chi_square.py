"""Pearson's chi-square test of homogeneity on the two samples' category counts.

Asks whether both samples could come from one distribution, accounting for the noise of
both (``scipy.stats.chi2_contingency`` on the 2 x k table; Yates' correction when k = 2).
Default for categorical columns with at most 1 000 reference values; numeric columns are
binned like PSI. Threshold: drift when p < 0.05.
"""

from __future__ import annotations

import numpy as np

from modelsteward.monitoring.drift.base import DriftMethod, NumericPair, Score, chi2_level


def categorical(ref_counts: np.ndarray, cur_counts: np.ndarray) -> Score:
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one category on both sides: nothing can differ
        return Score(0.0, 1.0, 0.0)
    from scipy import stats  # slow to import; only chi-square needs it

    result = stats.chi2_contingency(table)
    return Score(float(result.statistic), float(result.pvalue), chi2_level(int(result.dof)))


def numeric(pair: NumericPair, bins: int) -> Score:
    return categorical(*pair.binned(bins))


METHOD = DriftMethod("chi_square", "Chi-square test", 0.05, True, numeric, categorical)
