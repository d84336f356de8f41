"""Fairness of a classifier's decisions across the groups of a protected attribute.

Three measures, defined as fairlearn defines them and named as the ``fairness_bounds``
life cycle gate names them (``fairness.<measure>.<attribute>``):

- ``demographic_parity_difference``: largest minus smallest selection rate over the
  groups (the share of rows predicted positive); 0 is parity.
- ``equalized_odds_difference``: the larger of the gaps in true positive rate and in
  false positive rate over the groups; needs labels.
- ``disparate_impact_ratio``: smallest over largest selection rate; 1 is parity, and
  below 0.8 fails the four-fifths rule.

Groups with fewer than ``min_rows`` rows (labelled rows, for equalised odds) are left
out with a note, so one stray row cannot swing a measure. A group without positive
(negative) labels has no true (false) positive rate and is left out of that gap, where
fairlearn would count its rate as 0. Each measure carries a 95% band from a seeded
bootstrap over rows (see ``_bootstrap``); each group's selection rate a Wilson band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from modelsteward.monitoring.bands import Estimate, missing, proportion

MEASURES = ("demographic_parity_difference", "equalized_odds_difference", "disparate_impact_ratio")
MAX_GROUPS = 50


@dataclass(frozen=True)
class Counts:
    """Per group tallies (float arrays, one slot per group)."""

    rows: np.ndarray
    selected: np.ndarray
    positives: np.ndarray
    true_positives: np.ndarray
    negatives: np.ndarray
    false_positives: np.ndarray

    @classmethod
    def of(cls, cells: np.ndarray) -> Counts:
        """From ``cells``, shape (groups, 2, 3): [group, selected, no label/positive/negative]."""
        cells = cells.astype(np.float64)
        return cls(
            cells.sum(axis=(1, 2)),
            cells[:, 1, :].sum(axis=1),
            cells[:, :, 1].sum(axis=1),
            cells[:, 1, 1],
            cells[:, :, 2].sum(axis=1),
            cells[:, 1, 2],
        )


def tally(
    codes: np.ndarray, k: int, selected: np.ndarray, actual: np.ndarray, labelled: np.ndarray
) -> np.ndarray:
    """Rows per cell: group x predicted positive x label (none, positive, negative)."""
    label = np.where(labelled, np.where(actual, 1, 2), 0)
    cell = (codes * 2 + selected.astype(np.int64)) * 3 + label
    return np.bincount(cell, minlength=k * 6).reshape(k, 2, 3)


def _gap(rates: np.ndarray) -> float:
    return float(rates.max() - rates.min()) if rates.size >= 2 else math.nan


def measures(counts: Counts, rated: np.ndarray, odds: np.ndarray) -> dict[str, float]:
    """The three measures over the groups in ``rated`` (selection) and ``odds`` (labels)."""
    keep = rated & (counts.rows > 0)
    rates = counts.selected[keep] / counts.rows[keep]
    largest = rates.max() if rates.size else 0.0
    ratio = float(rates.min() / largest) if rates.size >= 2 and largest > 0 else math.nan
    with_pos, with_neg = odds & (counts.positives > 0), odds & (counts.negatives > 0)
    tpr = counts.true_positives[with_pos] / counts.positives[with_pos]
    fpr = counts.false_positives[with_neg] / counts.negatives[with_neg]
    tpr_gap, fpr_gap = _gap(tpr), _gap(fpr)
    eod = max(tpr_gap, fpr_gap) if math.isfinite(tpr_gap) and math.isfinite(fpr_gap) else math.nan
    return {
        "demographic_parity_difference": _gap(rates),
        "equalized_odds_difference": eod,
        "disparate_impact_ratio": ratio,
    }


def _codes(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, codes = np.unique(groups.astype(str), return_inverse=True)
    return values, codes.reshape(-1)


def _everyone(selected: np.ndarray, groups: np.ndarray, actual: np.ndarray | None) -> dict:
    values, codes = _codes(groups)
    truth = np.zeros(selected.size, bool) if actual is None else actual.astype(bool)
    cells = tally(codes, values.size, selected.astype(bool), truth, np.full(selected.size, True))
    every = np.full(values.size, True)
    return measures(Counts.of(cells), every, every)


def selection_rates(selected: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Each group's share of positive predictions."""
    values, codes = _codes(groups)
    rows = np.bincount(codes, minlength=values.size)
    chosen = np.bincount(codes, weights=selected.astype(np.float64), minlength=values.size)
    return {str(v): float(c / r) for v, c, r in zip(values, chosen, rows, strict=True)}


def demographic_parity_difference(selected: np.ndarray, groups: np.ndarray) -> float:
    """max - min selection rate over every group (no minimum group size)."""
    return _everyone(selected, groups, None)["demographic_parity_difference"]


def disparate_impact_ratio(selected: np.ndarray, groups: np.ndarray) -> float:
    """min / max selection rate over every group (NaN when no group has a positive)."""
    return _everyone(selected, groups, None)["disparate_impact_ratio"]


def equalized_odds_difference(
    selected: np.ndarray, actual: np.ndarray, groups: np.ndarray
) -> float:
    """max(TPR gap, FPR gap) over every group that has such labels."""
    return _everyone(selected, groups, actual)["equalized_odds_difference"]


@dataclass(frozen=True)
class Fairness:
    """A window's measures, each group's selection rate, and the groups left out (why)."""

    estimates: dict[str, Estimate]
    selection_rates: dict[str, Estimate]
    group_rows: dict[str, int]
    left_out: list[str] = field(default_factory=list)


def fairness(
    selected: np.ndarray,
    groups: np.ndarray,
    actual: np.ndarray | None = None,
    labelled: np.ndarray | None = None,
    *,
    min_rows: int = 10,
    replicates: int = 200,
    seed: int = 0,
) -> Fairness:
    """Measures with bootstrap bands over the groups of at least ``min_rows`` rows.

    ``selected``: the row was predicted positive; ``groups``: its group (None: unknown);
    ``actual``: its label is the positive class, counted where ``labelled`` (default: every
    row when ``actual`` is given)."""
    known = np.array([g is not None for g in groups], dtype=bool)
    left_out = [] if known.all() else [f"{int((~known).sum())} rows without a group value"]
    selected, groups = selected[known].astype(bool), groups[known]
    has_labels = actual is not None
    truth = np.zeros(selected.size, bool) if actual is None else actual[known].astype(bool)
    marked = np.full(selected.size, has_labels) if labelled is None else labelled[known]
    values, codes = _codes(groups) if groups.size else (np.array([], str), np.array([], int))
    cells = tally(codes, values.size, selected, truth, marked.astype(bool))
    counts = Counts.of(cells)
    if values.size > MAX_GROUPS:
        note = f"{values.size} groups; a protected attribute may have at most {MAX_GROUPS}"
        return Fairness({m: missing(note, selected.size) for m in MEASURES}, {}, {}, left_out)
    labelled_rows = counts.positives + counts.negatives
    rated, odds = counts.rows >= min_rows, labelled_rows >= min_rows
    for i, value in enumerate(values):
        if not rated[i]:
            left_out.append(f"group {value!s}: {int(counts.rows[i])} rows, {min_rows} needed")
        elif has_labels and not odds[i]:
            left_out.append(
                f"group {value!s}: {int(labelled_rows[i])} labelled rows, {min_rows} needed "
                "(left out of equalized_odds_difference)"
            )
    point = measures(counts, rated, odds)
    bands = _bootstrap(cells, point, rated, odds, replicates, seed)
    n = int(counts.rows[rated].sum())
    estimates = {}
    for name in MEASURES:
        groups_used = int(rated.sum()) if name != "equalized_odds_difference" else int(odds.sum())
        if name == "equalized_odds_difference" and (not has_labels or not marked.any()):
            estimates[name] = missing("needs labels", n)
        elif math.isfinite(point[name]):
            low, high = bands[name]
            estimates[name] = Estimate(point[name], low, high, n, f"{groups_used} groups compared")
        else:
            estimates[name] = missing(_why(name, groups_used, min_rows), n)
    rates = {
        str(v): proportion(int(counts.selected[i]), int(counts.rows[i]))
        for i, v in enumerate(values)
        if rated[i]
    }
    rows = {str(v): int(counts.rows[i]) for i, v in enumerate(values)}
    return Fairness(estimates, rates, rows, left_out)


def _why(name: str, groups_used: int, min_rows: int) -> str:
    if groups_used < 2:
        return f"{groups_used} group(s) with at least {min_rows} rows; 2 needed"
    if name == "disparate_impact_ratio":
        return "no group has a positive prediction"
    return "fewer than 2 groups have both positive and negative labels"


def _bootstrap(
    cells: np.ndarray,
    point: dict[str, float],
    rated: np.ndarray,
    odds: np.ndarray,
    replicates: int,
    seed: int,
) -> dict[str, tuple[float | None, float | None]]:
    """Basic (reverse percentile) bootstrap bands of the three measures, clipped to [0, 1].

    Resampling n rows with replacement gives multinomial cell counts, so each replicate
    is drawn over the 6 cells per group instead of the rows: exact, and O(groups). The
    reverse percentile corrects the upward bias of a max - min gap (a plain percentile
    band of a gap between equal groups would exclude 0)."""
    n = int(cells.sum())
    if n < 2:
        return {m: (None, None) for m in MEASURES}
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, cells.reshape(-1) / n, size=replicates)
    drawn: dict[str, list[float]] = {m: [] for m in MEASURES}
    for draw in draws:
        for name, value in measures(Counts.of(draw.reshape(cells.shape)), rated, odds).items():
            if math.isfinite(value):
                drawn[name].append(value)
    bands: dict[str, tuple[float | None, float | None]] = {}
    for name, found in drawn.items():
        if found and math.isfinite(point[name]):
            low, high = np.quantile(np.array(found), [0.025, 0.975])
            value = point[name]
            bands[name] = (max(0.0, 2 * value - float(high)), min(1.0, 2 * value - float(low)))
        else:
            bands[name] = (None, None)
    return bands
