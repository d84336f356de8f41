"""Outliers per request: rows far from the reference in Mahalanobis distance.

A row's distance is measured from the reference's robust centre with its robust
covariance (``geometry``), in scaled units, so a row can be an outlier by an unusual
combination of ordinary values. The cut-off is the larger of the chi-square 99.5%
quantile and the reference's own 99.5% distance quantile (out of fold), so about 0.5% of
reference-like rows or fewer fall beyond it (the baseline stores the measured share).
The metric is the window's outlier rate with its Wilson band; by default it breaches
above ``max(0.02, 2 x the reference rate)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelsteward.monitoring.bands import Estimate, missing, proportion
from modelsteward.monitoring.multivariate.baseline import MultivariateBaseline
from modelsteward.monitoring.specs import Bound

FLOOR_RATE = 0.02


@dataclass(frozen=True)
class Outliers:
    estimate: Estimate
    distances: np.ndarray  # per row
    outlying: np.ndarray  # row indices beyond the cut-off, farthest first


def distances(baseline: MultivariateBaseline, z: np.ndarray) -> np.ndarray:
    """Each row's Mahalanobis distance from the reference."""
    return np.sqrt(baseline.geometry.squared_distances(z))


def outlier_rate(baseline: MultivariateBaseline, z: np.ndarray) -> Outliers:
    """The share of rows beyond the baseline's distance cut-off."""
    if z.shape[0] == 0:
        return Outliers(missing("no rows"), np.zeros(0), np.zeros(0, dtype=np.int64))
    found = distances(baseline, z)
    beyond = np.flatnonzero(found > baseline.distance_threshold)
    farthest = beyond[np.argsort(-found[beyond], kind="stable")]
    return Outliers(proportion(int(beyond.size), int(z.shape[0])), found, farthest)


def default_bound(baseline: MultivariateBaseline) -> Bound:
    return Bound(max=max(FLOOR_RATE, 2 * baseline.reference_outlier_rate))
