"""Immutable drift results: one verdict per column, and the data set's drift share."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal[
    "ok",
    "drift",
    "not enough data",
    "column missing",
    "new column",
    "all missing",
    "type mismatch",
]


@dataclass(frozen=True)
class ColumnDrift:
    """``drifted`` is None (and ``statistic`` too) whenever ``status`` is not a verdict.

    ``low`` and ``high`` bracket the statistic by the noise it shows without drift at
    these sample sizes (95%), so a small window is not mistaken for a change.
    """

    column: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool | None
    status: Status
    reference_rows: int
    current_rows: int
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftResult:
    """``drift_share`` is None when no column could be judged (never a silent 0)."""

    columns: list[ColumnDrift]
    drift_share: float | None
    dataset_drift: bool
    share_threshold: float
    mode: Literal["exact", "profile"] = "exact"

    @property
    def by_column(self) -> dict[str, ColumnDrift]:
        return {c.column: c for c in self.columns}

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "share_threshold": self.share_threshold,
            "drifted_columns": self.drifted_columns,
            "columns": [c.to_dict() for c in self.columns],
        }


def summarise(
    columns: list[ColumnDrift], share_threshold: float, mode: Literal["exact", "profile"]
) -> DriftResult:
    judged = [c for c in columns if c.drifted is not None]
    share = sum(1 for c in judged if c.drifted) / len(judged) if judged else None
    dataset_drift = share is not None and share >= share_threshold
    return DriftResult(columns, share, dataset_drift, share_threshold, mode)
