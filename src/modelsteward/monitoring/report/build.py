"""An offline drift and quality report of a current data set against a reference.

One pass over the data: exact mode sorts each numeric column once per side and derives
drift, quality and the drawn distributions from those sorts (a column with current values
beyond the reference's range is read once more, for where they lie); profile mode (the reference
is a stored profile, e.g. a version's training data) reads the current data batch by
batch. The report is JSON (``to_json``) or one self-contained HTML page (``to_html``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelsteward.monitoring.drift import DriftConfig, DriftResult
from modelsteward.monitoring.drift.compare import drift_from_state, exact_pass
from modelsteward.monitoring.drift.window import CurrentColumn, WindowState, summarise_batches
from modelsteward.monitoring.families.data_quality.quality import (
    QualityResult,
    duplicate_rows,
    quality_from_state,
)
from modelsteward.monitoring.report.distributions import FeatureDistribution, distribution
from modelsteward.profiles import columns as read
from modelsteward.profiles.dataset import ColumnProfile, DatasetProfile

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Report:
    title: str
    created_at: str
    reference_rows: int
    current_rows: int
    drift: DriftResult
    quality: QualityResult
    distributions: list[FeatureDistribution]
    model: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "created_at": self.created_at,
            "model": self.model,
            "sources": dict(self.sources),
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "drift": self.drift.to_dict(),
            "quality": self.quality.to_dict(),
            "distributions": [d.to_dict() for d in self.distributions],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_plain)

    def to_html(self) -> str:
        from modelsteward.monitoring.report.render import render_html

        return render_html(self)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _beyond(
    ref: ColumnProfile, current: CurrentColumn | None, data: read.Data
) -> np.ndarray | None:
    """The current values outside the reference's range, sorted, read again only for the
    columns that have some (so the drawing shows where they lie)."""
    summary = current.numeric if current is not None else None
    if ref.kind != "numeric" or summary is None or not ref.sketch_edges:
        return None
    if not summary.below + summary.above:
        return np.empty(0)
    values = read.numeric(data, ref.name).values
    outside = values[(values < ref.sketch_edges[0]) | (values > ref.sketch_edges[-1])]
    return np.sort(outside)


def _distributions(
    reference: DatasetProfile, state: WindowState, current: read.Data
) -> list[FeatureDistribution]:
    drawn = []
    for name, ref in reference.columns.items():
        column = state.columns.get(name)
        shown = distribution(ref, column, _beyond(ref, column, current))
        if shown is not None:
            drawn.append(shown)
    return drawn


def build_report(
    reference: DatasetProfile | read.Data,
    current: read.Data,
    *,
    model: str | None = None,
    config: DriftConfig | None = None,
    title: str | None = None,
    sources: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Drift, quality and per-feature distributions of ``current`` against ``reference``.

    ``progress`` is called with a short line per step (e.g. a column's name).
    """
    config = config or DriftConfig()
    if isinstance(reference, DatasetProfile):
        if config.columns is not None:
            keep = set(config.columns)
            reference = DatasetProfile(
                reference.rows, {n: c for n, c in reference.columns.items() if n in keep}
            )
        state = summarise_batches(reference, read.batches(current), config.columns)
        drift = drift_from_state(reference, state, config, progress)
        ref_profile, reference_rows = reference, reference.rows
    else:
        if config.columns is not None:
            reference = _only(reference, config.columns)
            current = _only(current, config.columns)
        done = exact_pass(reference, current, config, progress)
        drift, ref_profile, state = done.drift, done.reference, done.state
        reference_rows = read.row_count(reference)
    if progress:
        progress("duplicate rows")
    quality = quality_from_state(ref_profile, state, duplicate_rows(current))
    return Report(
        title or (f"Drift report: {model}" if model else "Drift report"),
        datetime.now(UTC).isoformat(timespec="seconds"),
        reference_rows,
        state.rows,
        drift,
        quality,
        _distributions(ref_profile, state, current),
        model,
        dict(sources or {}),
    )


def _only(data: read.Data, names: Sequence[str]) -> read.Data:
    present = [n for n in names if n in set(read.column_names(data))]
    if isinstance(data, pd.DataFrame):
        return data[[c for c in data.columns if str(c) in set(present)]]
    if isinstance(data, pa.Table):
        return data.select(present)
    return data  # a column source opened with its columns already chosen
