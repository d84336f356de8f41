"""Data quality of a current data set against a reference profile.

Per column: missing rate (against the reference's), type violations (values that do not
fit the reference's kind: text in a numeric column, infinities), values outside the
reference's min-max range (beyond the share a reference of its size misses by chance,
``range_allowance``), and values the reference never had. For the data set:
duplicate rows and schema changes (columns added, removed or retyped). A column is an
"issue" when a figure passes the limits below; otherwise it gets the same statuses as
drift ("ok", "column missing", "new column", "all missing", "not enough data").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import beta

from modelsteward.monitoring.drift.window import CurrentColumn, WindowState, summarise_batches
from modelsteward.profiles import columns as read
from modelsteward.profiles.dataset import ColumnProfile, DatasetProfile, profile_dataset

MISSING_RISE = 0.05  # missing rate more than 5 points above the reference's
OUT_OF_RANGE_RATE = 0.01  # beyond the reference's allowance, see range_allowance
RANGE_CONFIDENCE = 0.99
UNSEEN_RATE = 0.01


@dataclass(frozen=True)
class QualityIssue:
    """One named problem: which column (None for the data set), which figure, its value
    and the limit it passed, so a report can say what is wrong rather than "issue"."""

    column: str | None
    metric: str
    value: float | None
    threshold: float | None
    message: str

    def __str__(self) -> str:
        return self.message


QualityStatus = Literal[
    "ok", "issue", "column missing", "new column", "all missing", "not enough data"
]


@dataclass(frozen=True)
class ColumnQuality:
    column: str
    kind: str
    status: QualityStatus
    rows: int
    missing: int = 0
    missing_rate: float | None = None
    reference_missing_rate: float | None = None
    type_violations: int = 0
    out_of_range: int | None = None
    out_of_range_rate: float | None = None
    unseen_categories: int | None = None  # None when the reference kept only its top values
    unseen_rate: float | None = None
    issues: tuple[QualityIssue, ...] = ()
    out_of_range_allowance: float | None = None  # range_allowance of the reference's count
    reference_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"issues": [asdict(i) for i in self.issues]}


@dataclass(frozen=True)
class SchemaChange:
    column: str
    change: Literal["added", "removed", "retyped"]
    reference_kind: str | None
    current_kind: str | None


@dataclass(frozen=True)
class QualityResult:
    rows: int
    columns: list[ColumnQuality]
    duplicate_rows: int
    schema_changes: list[SchemaChange]
    status: Literal["ok", "issue", "not enough data"]

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicate_rows / self.rows if self.rows else None

    @property
    def issues(self) -> list[QualityIssue]:
        """Every problem behind an "issue" status: the data set's, then each column's."""
        found = [
            QualityIssue(c.column, "schema", None, None, f"column {c.change}")
            for c in self.schema_changes
        ]
        if self.duplicate_rows:
            found.append(
                QualityIssue(
                    None,
                    "duplicate_rows",
                    float(self.duplicate_rows),
                    0.0,
                    f"{self.duplicate_rows} duplicate rows (limit 0)",
                )
            )
        for column in self.columns:
            found.extend(column.issues)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "status": self.status,
            "duplicate_rows": self.duplicate_rows,
            "duplicate_rate": self.duplicate_rate,
            "schema_changes": [asdict(c) for c in self.schema_changes],
            "issues": [asdict(i) for i in self.issues],
            "columns": [c.to_dict() for c in self.columns],
        }


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads small integers over all 64 bits."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def _row_hashes(data: read.Data) -> np.ndarray:
    """64-bit row hashes built a column at a time from Arrow dictionary codes."""
    hashes = np.zeros(read.row_count(data), dtype=np.uint64)
    for position, name in enumerate(read.column_names(data)):
        column = data.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        codes = pc.fill_null(column.dictionary_encode().indices, -1).to_numpy()
        with np.errstate(over="ignore"):
            salted = codes.astype(np.int64).astype(np.uint64) + np.uint64(position + 1)
            hashes = _mix(hashes * np.uint64(0x9E3779B97F4A7C15) ^ _mix(salted))
    return hashes


def duplicate_rows(data: read.Data) -> int:
    """Rows identical to an earlier row, by 64-bit row hashes."""
    if read.row_count(data) == 0 or not read.column_names(data):
        return 0
    if isinstance(data, pd.DataFrame):
        every = pd.util.hash_pandas_object(data, index=False).to_numpy()
    else:
        every = _row_hashes(data)
    return int(every.size - np.unique(every).size)


def range_allowance(count: int) -> float:
    """The share of fresh values from the reference's own population that falls outside the
    min-max of its ``count`` values by chance, at 99% confidence.

    The mass outside the range of n draws of a continuous variable is Beta(2, n - 1)
    distributed (mean 2/(n+1)): its 99% quantile is 2.2% for 300 values, 0.66% for 1 000
    and 0.066% for 10 000. Without it a 1% limit alarms on clean traffic whenever the
    reference has a few hundred rows (5 of 30 columns on a real data set)."""
    if count < 2:
        return 1.0
    return float(beta.ppf(RANGE_CONFIDENCE, 2, count - 1))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def column_quality(ref: ColumnProfile, state: CurrentColumn) -> ColumnQuality:
    rows = state.rows
    usable = state.usable
    if rows == 0:
        return ColumnQuality(ref.name, ref.kind, "not enough data", 0)
    missing_rate = state.missing / rows
    ref_missing = _rate(ref.missing, ref.rows)
    issues: list[QualityIssue] = []
    out_of_range = out_rate = unseen = unseen_rate = allowance = None
    if ref.kind == "numeric" and state.numeric is not None and ref.count:
        out_of_range = state.numeric.below + state.numeric.above
        out_rate = _rate(out_of_range, usable)
        allowance = range_allowance(ref.count)
        limit = OUT_OF_RANGE_RATE + allowance
        if out_rate is not None and out_rate > limit:
            issues.append(
                QualityIssue(
                    ref.name,
                    "out_of_range_rate",
                    out_rate,
                    limit,
                    f"{out_rate:.1%} of values outside the reference range (limit {limit:.1%})",
                )
            )
    elif ref.kind == "categorical" and ref.other == 0:
        new = {v: c for v, c in state.counts.items() if v not in ref.frequencies}
        unseen, unseen_rate = len(new), _rate(sum(new.values()), usable)
        if unseen_rate is not None and unseen_rate > UNSEEN_RATE:
            issues.append(
                QualityIssue(
                    ref.name,
                    "unseen_category_rate",
                    unseen_rate,
                    UNSEEN_RATE,
                    f"{unseen_rate:.1%} of values are categories the reference never had "
                    f"(limit {UNSEEN_RATE:.1%})",
                )
            )
    missing_limit = (ref_missing or 0.0) + MISSING_RISE
    if missing_rate > missing_limit:
        issues.append(
            QualityIssue(
                ref.name,
                "missing_rate",
                missing_rate,
                missing_limit,
                f"missing rate {missing_rate:.1%} (reference {ref_missing or 0.0:.1%}, "
                f"limit {missing_limit:.1%})",
            )
        )
    if state.invalid:
        issues.append(
            QualityIssue(
                ref.name,
                "type_violations",
                float(state.invalid),
                0.0,
                f"{state.invalid} values do not fit a {ref.kind} column (limit 0)",
            )
        )
    if usable == 0:
        if not issues:
            issues.append(QualityIssue(ref.name, "usable_values", 0.0, 1.0, "no usable values"))
        status: QualityStatus = "all missing"
    else:
        status = "issue" if issues else "ok"
    return ColumnQuality(
        ref.name,
        ref.kind,
        status,
        rows,
        state.missing,
        missing_rate,
        ref_missing,
        state.invalid,
        out_of_range,
        out_rate,
        unseen,
        unseen_rate,
        tuple(issues),
        allowance,
        ref.count,
    )


def quality_from_state(
    reference: DatasetProfile, state: WindowState, duplicates: int
) -> QualityResult:
    """Quality figures from a summarised window (see ``drift.window``)."""
    columns: list[ColumnQuality] = []
    changes: list[SchemaChange] = []
    for name, ref in reference.columns.items():
        current = state.columns.get(name)
        if current is None:
            columns.append(ColumnQuality(name, ref.kind, "column missing", 0))
            changes.append(SchemaChange(name, "removed", ref.kind, None))
            continue
        current_kind = state.kinds.get(name, ref.kind)
        if current_kind != ref.kind:
            changes.append(SchemaChange(name, "retyped", ref.kind, current_kind))
        columns.append(column_quality(ref, current))
    for name, kind in state.kinds.items():
        if name not in reference.columns:
            columns.append(ColumnQuality(name, kind, "new column", state.rows))
            changes.append(SchemaChange(name, "added", None, kind))
    if state.rows == 0:
        status: Literal["ok", "issue", "not enough data"] = "not enough data"
    elif changes or duplicates or any(c.status in ("issue", "all missing") for c in columns):
        status = "issue"
    else:
        status = "ok"
    return QualityResult(state.rows, columns, duplicates, changes, status)


def data_quality(
    reference: DatasetProfile | pd.DataFrame | pa.Table, current: pd.DataFrame | pa.Table
) -> QualityResult:
    """Quality figures of ``current``; a raw reference is profiled first."""
    if not isinstance(reference, DatasetProfile):
        reference = profile_dataset(reference)
    state = summarise_batches(reference, read.batches(current))
    return quality_from_state(reference, state, duplicate_rows(current))
