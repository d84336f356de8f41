"""The two ways a numeric column's reference and current data reach the drift methods.

``ExactNumeric``: both sides as sorted arrays; KS and Wasserstein are SciPy's formulas.
``SketchNumeric``: the reference as a stored quantile sketch and the current window as a
``WindowSummary`` — exact counts at the sketch's edges plus exact tail sums, built batch
by batch, so a window of any size is summarised in bounded memory. KS is then evaluated
at the sketch edges (at most 1/bins below the exact value); Wasserstein assumes values
spread evenly inside each sketch bin (exact beyond the reference's min and max).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from modelsteward.profiles.dataset import ColumnProfile

SCIPY_EXACT_KS_ROWS = 10_000  # up to this size SciPy's own (exact) KS p-value is used


def ks_asymptotic_p(d: float, n_ref: int, n_cur: int) -> float:
    """Smirnov's asymptotic p-value, as ``scipy.stats.ks_2samp(method="asymp")``."""
    from scipy.stats import distributions  # scipy.stats costs seconds to import: only here

    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(distributions.kstwo.sf(d, max(1.0, np.round(en))), 0.0, 1.0))


def quantile_bins(ref: ColumnProfile, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Inner edges of ``bins`` bins of equal reference mass, and the reference counts.

    Each inner edge is the first sketch edge at or above the k/bins share of the
    reference (its inverted-CDF quantile); ties collapse bins, and a constant reference
    gets three: below, at and above its value.
    """
    edges = np.asarray(ref.sketch_edges, dtype=np.float64)
    cumulative = np.asarray(ref.sketch_cumulative, dtype=np.int64)
    targets = np.arange(1, bins) / bins * ref.count
    picks = np.unique(np.searchsorted(cumulative, targets, side="left"))
    picks = picks[picks < edges.size - 1]  # the last edge is the max: no bin above it
    inner = edges[picks]
    ref_le = np.concatenate([cumulative[picks], [ref.count]])
    if inner.size == 0 and edges.size:  # a constant reference: below, at, above its value
        inner = np.array([np.nextafter(edges[0], -np.inf), edges[0]])
        ref_le = np.array([0, ref.count, ref.count])
    return inner, np.diff(ref_le, prepend=0)


@dataclass
class WindowSummary:
    """A current window seen through a reference sketch; add batches, then compare.

    ``le[i]`` counts values at or below sketch edge i; ``tail_low`` and ``tail_high``
    sum how far values lie below the reference's min and above its max.
    """

    edges: np.ndarray
    le: np.ndarray = field(init=False)
    sums: np.ndarray = field(init=False)
    n: int = 0
    below: int = 0
    tail_low: float = 0.0
    tail_high: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    low: float = np.inf
    high: float = -np.inf
    missing: int = 0
    invalid: int = 0

    def __post_init__(self) -> None:
        self.le = np.zeros(self.edges.size, dtype=np.int64)
        self.sums = np.zeros(self.edges.size, dtype=np.float64)

    def add_sorted(self, ordered: np.ndarray, *, missing: int = 0, invalid: int = 0) -> None:
        self.missing += missing
        self.invalid += invalid
        size = int(ordered.size)
        if size == 0 or self.edges.size == 0:
            self.n += size
            return
        le = np.searchsorted(ordered, self.edges, side="right")
        running = np.concatenate([[0.0], np.cumsum(ordered)])
        self.le += le
        self.sums += running[le]
        below = int(np.searchsorted(ordered, self.edges[0], side="left"))
        above = int(le[-1])
        self.below += below
        self.tail_low += below * float(self.edges[0]) - float(running[below])
        self.tail_high += float(running[-1] - running[above]) - (size - above) * float(
            self.edges[-1]
        )
        batch_mean = float(running[-1]) / size
        batch_m2 = float(((ordered - batch_mean) ** 2).sum())
        total = self.n + size
        delta = batch_mean - self.mean
        self.mean += delta * size / total
        self.m2 += batch_m2 + delta * delta * self.n * size / total
        self.n = total
        self.low = min(self.low, float(ordered[0]))
        self.high = max(self.high, float(ordered[-1]))

    @classmethod
    def from_profile(cls, edges: np.ndarray, current: ColumnProfile) -> WindowSummary:
        """A summary read off a current profile's sketch (coarser: both sides sketched)."""
        summary = cls(edges)
        n = current.count
        summary.n, summary.missing, summary.invalid = n, current.missing, current.invalid
        if n == 0 or edges.size == 0:
            return summary
        summary.le = np.rint(current.cdf_at(edges) * n).astype(np.int64)
        summary.sums = _sums_at(current, edges)
        summary.below = int(round(float(current.cdf_at(np.nextafter(edges[:1], -np.inf))[0]) * n))
        summary.tail_low = n * _cdf_integral(current, -np.inf, float(edges[0]))
        upper = float(current.max if current.max is not None else edges[-1])
        span = max(upper - float(edges[-1]), 0.0)
        summary.tail_high = n * (span - _cdf_integral(current, float(edges[-1]), upper))
        summary.mean = float(current.mean or 0.0)
        summary.m2 = float(current.std or 0.0) ** 2 * n
        summary.low = float(current.min if current.min is not None else np.inf)
        summary.high = upper
        return summary

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.n)) if self.n else 0.0

    @property
    def above(self) -> int:
        return self.n - int(self.le[-1]) if self.edges.size else 0


def _sums_at(profile: ColumnProfile, points: np.ndarray) -> np.ndarray:
    """Sum of a profile's values at or below each point, interpolated between edges."""
    edges = np.asarray(profile.sketch_edges, dtype=np.float64)
    sums = _stored_sums(profile)
    return np.interp(points, edges, sums, left=0.0, right=float(sums[-1]) if sums.size else 0.0)


def _stored_sums(profile: ColumnProfile) -> np.ndarray:
    """The sketch's running sums; for old profiles, as if values sat mid-bin."""
    if profile.sketch_sums:
        return np.asarray(profile.sketch_sums, dtype=np.float64)
    edges = np.asarray(profile.sketch_edges, dtype=np.float64)
    counts = np.diff(np.asarray(profile.sketch_cumulative, dtype=np.float64), prepend=0.0)
    middles = np.concatenate([edges[:1], (edges[1:] + edges[:-1]) / 2])
    return np.cumsum(counts * middles)


def _bin_integrals(edges: np.ndarray, shares: np.ndarray, sums: np.ndarray, n: int) -> np.ndarray:
    """Integral of the empirical CDF over each bin between edges (integration by parts)."""
    moved = edges[1:] * shares[1:] - edges[:-1] * shares[:-1]
    return moved - np.diff(sums) / max(n, 1)


def _cdf_integral(profile: ColumnProfile, lo: float, hi: float) -> float:
    """Integral of a profile's (piecewise linear) CDF between lo and hi."""
    edges = np.asarray(profile.sketch_edges, dtype=np.float64)
    if edges.size == 0 or hi <= lo:
        return 0.0
    lo = max(lo, float(edges[0]))
    if hi <= lo:
        return 0.0
    points = np.unique(np.concatenate([[lo, hi], edges[(edges > lo) & (edges < hi)]]))
    return float(np.trapezoid(profile.cdf_at(points), points))


class ExactNumeric:
    """Both sides raw and sorted: statistics as SciPy computes them."""

    exact = True

    def __init__(self, ref_sorted: np.ndarray, cur_sorted: np.ndarray, ref: ColumnProfile):
        self.a, self.b, self.profile = ref_sorted, cur_sorted, ref
        self.n_ref, self.n_cur = int(ref_sorted.size), int(cur_sorted.size)
        self.ref_std = float(ref.std or 0.0)
        self.ref_mean = float(ref.mean or 0.0)

    def ks(self) -> tuple[float, float]:
        if max(self.n_ref, self.n_cur) <= SCIPY_EXACT_KS_ROWS:
            from scipy import stats

            result = stats.ks_2samp(self.a, self.b)
            return float(result.statistic), float(result.pvalue)
        a, b = self.a, self.b
        at_a = (
            np.searchsorted(a, a, side="right") / a.size - np.searchsorted(b, a, "right") / b.size
        )
        at_b = (
            np.searchsorted(a, b, side="right") / a.size - np.searchsorted(b, b, "right") / b.size
        )
        d = float(max(np.abs(at_a).max(), np.abs(at_b).max()))
        return d, ks_asymptotic_p(d, self.n_ref, self.n_cur)

    def wasserstein(self) -> float:
        """Integral of |Q_ref(p) - Q_cur(p)| over the merged grid of rank breakpoints."""
        n1, n2 = self.n_ref, self.n_cur
        ranks = np.concatenate(
            [np.arange(1, n1 + 1, dtype=np.int64) * n2, np.arange(1, n2 + 1, dtype=np.int64) * n1]
        )
        ranks.sort(kind="stable")  # two sorted runs: timsort merges them in linear time
        keep = np.ones(ranks.size, dtype=bool)
        keep[1:] = ranks[1:] != ranks[:-1]
        ranks = ranks[keep]
        widths = np.diff(ranks, prepend=0)
        ia = -(-ranks // n2) - 1
        ib = -(-ranks // n1) - 1
        return float(np.dot(widths, np.abs(self.a[ia] - self.b[ib])) / (n1 * n2))

    def binned(self, bins: int) -> tuple[np.ndarray, np.ndarray]:
        inner, ref_counts = quantile_bins(self.profile, bins)
        cur_le = np.concatenate([np.searchsorted(self.b, inner, side="right"), [self.n_cur]])
        return ref_counts, np.diff(cur_le, prepend=0)


class SketchNumeric:
    """Reference sketch against a current window summary (profile mode)."""

    exact = False

    def __init__(self, ref: ColumnProfile, current: WindowSummary):
        self.profile, self.current = ref, current
        self.n_ref, self.n_cur = ref.count, current.n
        self.ref_std = float(ref.std or 0.0)
        self.ref_mean = float(ref.mean or 0.0)
        self.f_ref = np.asarray(ref.sketch_cumulative, dtype=np.float64) / max(ref.count, 1)
        self.f_cur = current.le / max(current.n, 1)

    def ks(self) -> tuple[float, float]:
        d = float(max(np.abs(self.f_ref - self.f_cur).max(), self.current.below / self.n_cur))
        return d, ks_asymptotic_p(d, self.n_ref, self.n_cur)

    def wasserstein(self) -> float:
        """Per sketch bin: |integral of F_ref - F_cur|, exact where they do not cross."""
        edges = self.current.edges
        d = self.f_ref - self.f_cur
        d0, d1, widths = d[:-1], d[1:], np.diff(edges)
        magnitude = np.abs(d0) + np.abs(d1)
        crossing = np.divide(
            d0**2 + d1**2, 2 * magnitude, where=magnitude > 0, out=np.zeros_like(d0)
        )
        ref_area = _bin_integrals(edges, self.f_ref, _stored_sums(self.profile), self.n_ref)
        cur_area = _bin_integrals(edges, self.f_cur, self.current.sums, self.n_cur)
        inside = np.where(d0 * d1 >= 0, np.abs(ref_area - cur_area), widths * crossing)
        tails = (self.current.tail_low + self.current.tail_high) / self.n_cur
        return float(inside.sum() + tails)

    def binned(self, bins: int) -> tuple[np.ndarray, np.ndarray]:
        inner, ref_counts = quantile_bins(self.profile, bins)
        edges = self.current.edges
        positions = np.minimum(np.searchsorted(edges, inner), edges.size - 1)
        # every inner edge is a sketch edge, but for the one just below a constant's value
        at = np.where(edges[positions] == inner, self.current.le[positions], self.current.below)
        cur_le = np.concatenate([at, [self.n_cur]])
        return ref_counts, np.diff(cur_le, prepend=0)


def aligned_counts(
    ref: dict[str, int] | object, cur: dict[str, int], *, ref_other: int = 0
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Category counts side by side; values the capped reference lumped in ``other``
    are lumped there on the current side too."""
    if not isinstance(ref, dict):
        raise TypeError("reference counts must be a dict")
    keys = list(ref)
    known = set(keys)
    lumped = 0
    extra: dict[str, int] = {}
    for value, count in cur.items():
        if value in known:
            continue
        if ref_other > 0:
            lumped += count
        else:
            extra[value] = count
    names = keys + list(extra) + (["(other)"] if ref_other > 0 else [])
    r = np.array([ref[k] for k in keys] + [0] * len(extra) + ([ref_other] if ref_other else []))
    c = np.array(
        [cur.get(k, 0) for k in keys] + list(extra.values()) + ([lumped] if ref_other else [])
    )
    return names, r.astype(np.float64), c.astype(np.float64)
