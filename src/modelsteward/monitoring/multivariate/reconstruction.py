"""PCA reconstruction error: how far a window's rows lie from the reference's main axes.

Each row is projected on the principal axes that keep 65% of the reference's variance and
mapped back; its error is the Euclidean distance (in scaled units) between the row and
that reconstruction. The metric is the window's mean error, with the 95% band of a mean.
When the columns' correlations change, rows leave the plane the reference lived in and
the error grows, even where every column's own distribution is unchanged.

The default threshold is the reference's mean error +/- 3 standard deviations of the
difference between two means: sd * sqrt(1/n + 1/N) for a window of n rows and a
reference of N, i.e. the spread of reference chunks of the window's size (NannyML's
rule), widened for the reference's own finite size. Leaving the band on either side is
a breach (fewer errors than usual is a change too, e.g. a column stuck at one value).
"""

from __future__ import annotations

import math

import numpy as np

from modelsteward.monitoring.bands import Estimate, mean_of, missing
from modelsteward.monitoring.multivariate.baseline import MultivariateBaseline
from modelsteward.monitoring.specs import Bound

SIGMAS = 3.0


def reconstruction_error(baseline: MultivariateBaseline, z: np.ndarray) -> Estimate:
    """The mean reconstruction error of the rows of ``z`` (scaled by ``baseline``)."""
    if baseline.geometry.kept == 0:
        return missing("needs at least 2 numeric columns to reconstruct from", z.shape[0])
    if z.shape[0] == 0:
        return missing("no rows")
    return mean_of(baseline.geometry.reconstruction_errors(z))


def default_band(baseline: MultivariateBaseline, rows: int) -> Bound | None:
    """Reference mean +/- 3 standard deviations of a ``rows``-row window's mean."""
    if baseline.error_mean is None or baseline.error_std is None or rows < 1:
        return None
    half = SIGMAS * baseline.error_std * math.sqrt(1 / rows + 1 / max(baseline.rows, 1))
    return Bound(min=max(0.0, baseline.error_mean - half), max=baseline.error_mean + half)
