"""A current window as the comparisons need it, read once, batch by batch.

For each column: its row count, missing and invalid values, and either a
``WindowSummary`` against the reference's sketch (numeric) or value counts
(categorical). Drift, quality and the report's distributions all read this one
summary, so the current data is sorted once per column and never held whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from modelsteward.monitoring import columns as read
from modelsteward.monitoring.drift.samples import WindowSummary
from modelsteward.monitoring.profile import ColumnProfile, DatasetProfile


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


@dataclass
class WindowState:
    """``kinds`` holds the stored kind of every current column (for schema changes)."""

    rows: int = 0
    columns: dict[str, CurrentColumn] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def summarise_batches(
    reference: DatasetProfile, batches: Iterable[read.Data], names: Iterable[str] | None = None
) -> WindowState:
    """Read current batches once; ``names`` limits the columns (default: all)."""
    wanted = None if names is None else set(names)
    state = WindowState()
    for batch in batches:
        rows = read.row_count(batch)
        state.rows += rows
        for name in read.column_names(batch):
            if wanted is not None and name not in wanted:
                continue
            state.kinds.setdefault(name, read.kind_of(batch, name))
            ref = reference.columns.get(name)
            current = state.columns.setdefault(name, CurrentColumn())
            if ref is not None and ref.kind == "numeric":
                column = read.numeric(batch, name)
                current.add_numeric(
                    ref, np.sort(column.values), rows, column.missing, column.invalid
                )
            else:
                counted = read.categorical(batch, name)
                current.add_counts(counted.counts, rows, counted.missing)
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
