"""A current window as the comparisons need it, read once, batch by batch.

For each column: its row count, missing and invalid values, and either a
``WindowSummary`` against the reference's sketch (numeric) or value counts
(categorical). Drift, quality and the report's distributions all read this one
summary, so the current data is sorted once per column and never held whole.

The summaries are exactly mergeable: parts of a window summarised apart (on Dask
workers, see ``monitoring/families/drift/distributed.py``) and merged give the same counts at the
reference's sketch edges as one pass over the whole window.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from modelsteward.monitoring.drift.samples import WindowSummary
from modelsteward.profiles import columns as read
from modelsteward.profiles.dataset import ColumnProfile, DatasetProfile


@dataclass
class CurrentColumn:
    rows: int = 0
    numeric: WindowSummary | None = None
    counts: dict[str, int] = field(default_factory=dict)
    missing: int = 0
    invalid: int = 0

    @property
    def usable(self) -> int:
        return self.numeric.n if self.numeric is not None else sum(self.counts.values())

    def add_numeric(
        self, reference: ColumnProfile, ordered: np.ndarray, rows: int, missing: int, invalid: int
    ) -> None:
        """Add sorted finite values seen through the reference's sketch."""
        if self.numeric is None:
            self.numeric = WindowSummary(np.asarray(reference.sketch_edges, dtype=np.float64))
        self.rows += rows
        self.numeric.add_sorted(ordered, missing=missing, invalid=invalid)
        self.missing, self.invalid = self.numeric.missing, self.numeric.invalid

    def add_counts(self, counts: dict[str, int], rows: int, missing: int) -> None:
        self.rows += rows
        for value, count in counts.items():
            self.counts[value] = self.counts.get(value, 0) + count
        self.missing += missing

    def merge(self, other: CurrentColumn) -> None:
        """Add another part of the same column, summarised against the same reference."""
        self.rows += other.rows
        for value, count in other.counts.items():
            self.counts[value] = self.counts.get(value, 0) + count
        if other.numeric is not None:
            if self.numeric is None:
                self.numeric = copy.deepcopy(other.numeric)
            else:
                merge_summaries(self.numeric, other.numeric)
            self.missing, self.invalid = self.numeric.missing, self.numeric.invalid
        else:
            self.missing += other.missing
            self.invalid += other.invalid


def merge_summaries(into: WindowSummary, other: WindowSummary) -> None:
    """Add ``other`` to ``into``: counts and sums add; mean and variance by Chan's formula."""
    if not np.array_equal(into.edges, other.edges):
        raise ValueError("window summaries against different sketch edges cannot be merged")
    into.le += other.le
    into.sums += other.sums
    into.below += other.below
    into.tail_low += other.tail_low
    into.tail_high += other.tail_high
    into.missing += other.missing
    into.invalid += other.invalid
    total = into.n + other.n
    if other.n:
        delta = other.mean - into.mean
        into.mean += delta * other.n / total
        into.m2 += other.m2 + delta * delta * into.n * other.n / total
    into.n = total
    into.low = min(into.low, other.low)
    into.high = max(into.high, other.high)


@dataclass
class WindowState:
    """``kinds`` holds the stored kind of every current column (for schema changes)."""

    rows: int = 0
    columns: dict[str, CurrentColumn] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def add(
        self, reference: DatasetProfile, batch: read.Data, wanted: set[str] | None = None
    ) -> None:
        """Summarise one batch of current rows; ``wanted`` limits the columns."""
        rows = read.row_count(batch)
        self.rows += rows
        for name in read.column_names(batch):
            if wanted is not None and name not in wanted:
                continue
            self.kinds.setdefault(name, read.kind_of(batch, name))
            ref = reference.columns.get(name)
            current = self.columns.setdefault(name, CurrentColumn())
            if ref is not None and ref.kind == "numeric":
                column = read.numeric(batch, name)
                current.add_numeric(
                    ref, np.sort(column.values), rows, column.missing, column.invalid
                )
            else:
                counted = read.categorical(batch, name)
                current.add_counts(counted.counts, rows, counted.missing)

    def merge(self, other: WindowState) -> None:
        """Add a part of the same window summarised apart (against the same reference)."""
        self.rows += other.rows
        for name, kind in other.kinds.items():
            self.kinds.setdefault(name, kind)
        for name, column in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(column)
            else:
                self.columns[name] = copy.deepcopy(column)


def summarise_batches(
    reference: DatasetProfile, batches: Iterable[read.Data], names: Iterable[str] | None = None
) -> WindowState:
    """Read current batches once; ``names`` limits the columns (default: all)."""
    wanted = None if names is None else set(names)
    state = WindowState()
    for batch in batches:
        state.add(reference, batch, wanted)
    return state


def state_from_profile(reference: DatasetProfile, current: DatasetProfile) -> WindowState:
    """A window known only by its profile (both sides sketched: coarser)."""
    state = WindowState(rows=current.rows)
    for name, column in current.columns.items():
        state.kinds[name] = column.kind
        ref = reference.columns.get(name)
        entry = CurrentColumn(rows=column.rows, missing=column.missing, invalid=column.invalid)
        if ref is not None and ref.kind == "numeric" and column.kind == "numeric":
            entry.numeric = WindowSummary.from_profile(np.asarray(ref.sketch_edges), column)
        elif ref is not None and ref.kind == "numeric":
            entry.invalid += column.count
        else:
            entry.counts = dict(column.frequencies)
            if column.other:
                entry.counts["(other)"] = column.other
        state.columns[name] = entry
    return state
