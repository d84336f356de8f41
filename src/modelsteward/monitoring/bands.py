"""A metric's value with its 95% sampling band, so a small window is not mistaken for a change.

Every monitor family reports its figures as ``Estimate``s: Wilson intervals for
proportions, a normal interval for means, and a percentile bootstrap (seeded, so runs
are reproducible) for statistics with no closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A metric's value and its 95% band; ``value`` is None with a ``note`` saying why."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    note: str = ""


def missing(note: str, n: int = 0) -> Estimate:
    return Estimate(None, n=n, note=note)


def wilson(successes: int, n: int) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(successes: int, n: int, note: str = "no rows") -> Estimate:
    if n == 0:
        return missing(note)
    low, high = wilson(successes, n)
    return Estimate(successes / n, low, high, n)


def mean_of(values: np.ndarray) -> Estimate:
    n = int(values.size)
    if n == 0:
        return missing("no rows")
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return Estimate(mean, mean - half, mean + half, n)


def bootstrap(
    statistic: Callable[[np.ndarray], float], n: int, replicates: int, seed: int = 0
) -> tuple[float, float]:
    """Percentile band of ``statistic(indices)`` over resampled row indices."""
    if n < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(replicates)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (math.nan, math.nan)
    low, high = np.quantile(values, [0.025, 0.975])
    return float(low), float(high)
