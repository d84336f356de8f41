"""The linear algebra under both multivariate monitors, vectorised over rows.

A reference is summarised by a robust centre and covariance (one-step reweighted: rows
beyond the chi-square 97.5% quantile of the Mahalanobis distance are left out, twice,
and the covariance is rescaled for that truncation), kept as the covariance's principal
axes and their variances. One projection on those axes gives both numbers a row needs:
its squared Mahalanobis distance (the projections weighed by 1 / variance) and its PCA
reconstruction error (the length of the part outside the first ``kept`` axes). Storing
axes rather than an inverse matrix keeps the baseline compact and well conditioned.
Everything works on the scaled matrix (``matrix.scaled``), so no unit dominates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

TRIM_QUANTILE = 0.975
REWEIGHT_STEPS = 2
FLOOR = 1e-6  # smallest variance, relative to the mean one: a singular covariance stays usable
VARIANCE_KEPT = 0.65  # the share of variance PCA keeps (NannyML's default)


@dataclass(frozen=True)
class Geometry:
    """Centre, principal axes (rows, by decreasing variance), their variances, and how
    many axes the PCA keeps (0 for a single column: nothing to reconstruct from)."""

    location: np.ndarray  # (d,)
    axes: np.ndarray  # (d, d), orthonormal rows
    variances: np.ndarray  # (d,)
    kept: int

    def project(self, z: np.ndarray) -> np.ndarray:
        return (z - self.location) @ self.axes.T

    def squared_distances(self, z: np.ndarray) -> np.ndarray:
        """Each row's squared Mahalanobis distance from the centre."""
        projected = self.project(z)
        return np.einsum("ij,ij,j->i", projected, projected, 1.0 / self.variances)

    def reconstruction_errors(self, z: np.ndarray) -> np.ndarray:
        """Each row's Euclidean distance from its projection on the kept axes."""
        left = self.project(z)[:, self.kept :]
        return np.sqrt(np.einsum("ij,ij->i", left, left))


def _covariance(z: np.ndarray, location: np.ndarray) -> np.ndarray:
    centred = z - location
    return np.atleast_2d(centred.T @ centred / max(z.shape[0] - 1, 1))


def _axes(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    floor = FLOOR * max(float(np.mean(np.clip(values, 0.0, None))), 1e-12)
    return vectors[:, order].T.copy(), np.maximum(values[order], floor)


def _kept(variances: np.ndarray, share: float) -> int:
    """The fewest axes that keep ``share`` of the variance, always leaving one out."""
    d = variances.size
    if d < 2:
        return 0
    cumulative = np.cumsum(variances) / float(variances.sum())
    return min(int(np.searchsorted(cumulative, share)) + 1, d - 1)


def fit(z: np.ndarray, share: float = VARIANCE_KEPT) -> Geometry:
    """A centre and covariance that a few far-away reference rows do not drag along."""
    d = z.shape[1]
    location = z.mean(axis=0)
    axes, variances = _axes(_covariance(z, location))
    cutoff = float(chi2.ppf(TRIM_QUANTILE, d))
    consistency = float(chi2.cdf(cutoff, d + 2)) / TRIM_QUANTILE
    for _ in range(REWEIGHT_STEPS):
        inside = Geometry(location, axes, variances, 0).squared_distances(z) <= cutoff
        if inside.sum() < max(d + 2, z.shape[0] // 2):
            break
        location = z[inside].mean(axis=0)
        axes, variances = _axes(_covariance(z[inside], location) / consistency)
    return Geometry(location, axes, variances, _kept(variances, share))


def out_of_fold(z: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reconstruction errors and squared distances of every row from a geometry fitted
    without it, so the reference's own numbers are not flattered by fitting on itself."""
    n = z.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    errors, distances = np.empty(n), np.empty(n)
    for part in np.array_split(order, folds):
        geometry = fit(np.delete(z, part, axis=0))
        errors[part] = geometry.reconstruction_errors(z[part])
        distances[part] = geometry.squared_distances(z[part])
    return errors, distances
