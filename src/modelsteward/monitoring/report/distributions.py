"""Reference and current distributions of each feature on common bins, for drawing.

Numeric features get ``GRID_BINS`` equal-width bins from the smaller of both sides' minima
to the larger of their maxima, so current values beyond the reference's range are drawn
where they lie, not piled into an end bin. The reference's shares come from its sketch;
the current's from the window's summary (exact at the sketch edges) and, beyond the
reference's range, from the current values found there (``beyond``), so the same code
serves exact and profile mode.
Categorical features show their ``TOP_CATEGORIES`` most frequent values and "(other)".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from modelsteward.monitoring.drift.window import CurrentColumn
from modelsteward.profiles.dataset import ColumnProfile

GRID_BINS = 30
TOP_CATEGORIES = 15


@dataclass(frozen=True)
class FeatureDistribution:
    """``edges`` for numeric features (len(shares) + 1), ``categories`` for the others."""

    column: str
    kind: str
    reference: list[float]
    current: list[float]
    edges: list[float] | None = None
    categories: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shares_on(cumulative: np.ndarray) -> list[float]:
    """Bin shares from the share at or below each inner edge (first and last bins open)."""
    full = np.concatenate([[0.0], np.clip(cumulative, 0.0, 1.0), [1.0]])
    return np.maximum(np.diff(full), 0.0).round(6).tolist()


def numeric_distribution(
    ref: ColumnProfile, current: CurrentColumn, beyond: np.ndarray | None = None
) -> FeatureDistribution | None:
    """``beyond``: the current's values outside the reference's min-max, sorted (without
    them values there are spread evenly between the range's end and the current's extreme)."""
    summary = current.numeric
    if summary is None or ref.count == 0 or summary.n == 0 or not ref.sketch_edges:
        return None
    edges = np.asarray(ref.sketch_edges, dtype=np.float64)
    cur_share = summary.le / summary.n
    lo, hi = min(float(edges[0]), summary.low), max(float(edges[-1]), summary.high)
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    grid = np.linspace(lo, hi, GRID_BINS + 1)
    inner = grid[1:-1]
    ref_at = ref.cdf_at(inner)
    # the window is known exactly at the sketch edges; between them, linearly
    cur_at = np.interp(inner, edges, cur_share)
    low_side, high_side = inner < edges[0], inner > edges[-1]
    if beyond is not None and beyond.size == summary.below + summary.above:
        at = np.searchsorted(beyond, inner, side="right")
        cur_at[low_side] = at[low_side] / summary.n
        cur_at[high_side] = (summary.le[-1] + at[high_side] - summary.below) / summary.n
    else:
        cur_at[low_side] = (
            summary.below * np.interp(inner[low_side], [summary.low, edges[0]], [0, 1]) / summary.n
        )
        cur_at[high_side] = (
            summary.le[-1]
            + summary.above * np.interp(inner[high_side], [edges[-1], summary.high], [0, 1])
        ) / summary.n
    return FeatureDistribution(
        ref.name, "numeric", _shares_on(ref_at), _shares_on(cur_at), edges=grid.tolist()
    )


def categorical_distribution(ref: ColumnProfile, current: CurrentColumn) -> FeatureDistribution:
    ref_total = max(ref.count, 1)
    cur_total = max(current.usable, 1)
    combined: dict[str, float] = {}
    for value, count in ref.frequencies.items():
        combined[value] = combined.get(value, 0.0) + count / ref_total
    for value, count in current.counts.items():
        combined[value] = combined.get(value, 0.0) + count / cur_total
    top = sorted(combined, key=lambda v: (-combined[v], v))[:TOP_CATEGORIES]
    ref_shares = [ref.frequencies.get(v, 0) / ref_total for v in top]
    cur_shares = [current.counts.get(v, 0) / cur_total for v in top]
    rest_ref, rest_cur = 1 - sum(ref_shares), 1 - sum(cur_shares)
    if rest_ref > 1e-9 or rest_cur > 1e-9:
        top.append("(other)")
        ref_shares.append(max(rest_ref, 0.0))
        cur_shares.append(max(rest_cur, 0.0))
    if ref.count == 0:
        ref_shares = [0.0] * len(top)
    if current.usable == 0:
        cur_shares = [0.0] * len(top)
    return FeatureDistribution(
        ref.name,
        "categorical",
        [round(s, 6) for s in ref_shares],
        [round(s, 6) for s in cur_shares],
        categories=top,
    )


def distribution(
    ref: ColumnProfile, current: CurrentColumn | None, beyond: np.ndarray | None = None
) -> FeatureDistribution | None:
    if current is None:
        return None
    if ref.kind == "numeric":
        return numeric_distribution(ref, current, beyond)
    return categorical_distribution(ref, current)
