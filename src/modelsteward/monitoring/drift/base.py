"""What a drift method is: a descriptor with a threshold and one function per column kind.

Methods never see raw containers: a numeric column arrives as a ``NumericPair`` (exact
sorted samples, or a reference sketch against a summarised current window), a categorical
one as two aligned count vectors. That keeps every method small and lets one set of
sorts serve KS, Wasserstein, PSI and Jensen-Shannon alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

PROPORTION_FLOOR = 1e-4  # PSI's stand-in for an empty bin (as in Evidently)
BAND_LEVEL = 0.95  # the band is what the statistic reaches 95% of the time without drift
_Z95 = 1.6448536269514722  # one-sided normal quantile at BAND_LEVEL


@dataclass(frozen=True)
class Score:
    """A statistic, its p-value for tests, and its no-drift noise level at these sizes."""

    statistic: float
    p_value: float | None
    noise: float


class NumericPair(Protocol):
    """A numeric column's reference and current data, as the methods need them."""

    exact: bool
    n_ref: int
    n_cur: int
    ref_std: float
    ref_mean: float

    def ks(self) -> tuple[float, float]:
        """KS statistic and its p-value."""
        ...

    def wasserstein(self) -> float:
        """Earth mover's distance, in the column's units."""
        ...

    def binned(self, bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Counts per bin of equal reference mass (open-ended first and last bins)."""
        ...


NumericScore = Callable[[NumericPair, int], Score]
CategoricalScore = Callable[[np.ndarray, np.ndarray], Score]


@dataclass(frozen=True)
class DriftMethod:
    """A registry entry: ``uses_p_value`` methods flag drift when p < threshold, the
    others when the statistic >= threshold."""

    name: str
    title: str
    threshold: float
    uses_p_value: bool
    numeric: NumericScore | None
    categorical: CategoricalScore | None

    def applies_to(self, kind: str) -> bool:
        return (self.numeric if kind == "numeric" else self.categorical) is not None

    def drifted(self, score: Score, threshold: float) -> bool:
        """Tests decide by p-value; a distance when it reaches its threshold and also
        exceeds what it shows without any drift at these sample sizes (``noise``), so a
        small window's wobble is not mistaken for a change."""
        if self.uses_p_value:
            return score.p_value is not None and score.p_value < threshold
        return score.statistic >= threshold and score.statistic > score.noise


def proportions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts, dtype=np.float64)


def harmonic_size(n_ref: int, n_cur: int) -> float:
    """1/n + 1/m: how the variance of a two-sample statistic scales with the sizes."""
    return 1.0 / max(n_ref, 1) + 1.0 / max(n_cur, 1)


def chi2_level(dof: int) -> float:
    """chi2.ppf(0.95, dof) by Wilson-Hilferty (within 3%; avoids importing SciPy for a band)."""
    k = max(dof, 1)
    return k * (1 - 2 / (9 * k) + _Z95 * math.sqrt(2 / (9 * k))) ** 3
