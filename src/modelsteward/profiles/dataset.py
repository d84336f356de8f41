"""A compact profile of a data set: what drift and quality checks need, not the data.

Numeric columns keep a quantile sketch: up to ``bins + 1`` edges (the smallest value
whose share of the column reaches j/bins, for each j, and the min), the exact count of
values at or below each edge and their running sum. Drift statistics in profile mode read
the reference's distribution from it, so a monitor never re-reads training data; with
``bins`` bins a KS statistic is within 1/bins of the exact one (see docs/drift.md). Categorical
columns keep their most frequent values (up to ``CATEGORY_CAP``), the rest in ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from modelsteward.errors import InvalidInput
from modelsteward.profiles import columns as read

FORMAT = "modelsteward.profile/2"
SKETCH_BINS = 500
HISTOGRAM_BINS = 40
CATEGORY_CAP = 1000
SUMMARY_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class ColumnProfile:
    """One column's summary. ``count`` is the usable values (finite numbers, non-null)."""

    name: str
    kind: Literal["numeric", "categorical"]
    count: int
    missing: int
    invalid: int = 0
    distinct: int | None = None
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    quantiles: Mapping[str, float] = field(default_factory=dict)
    sketch_edges: tuple[float, ...] = ()
    sketch_cumulative: tuple[int, ...] = ()
    sketch_sums: tuple[float, ...] = ()  # sum of the values at or below each edge
    histogram_edges: tuple[float, ...] = ()
    histogram_counts: tuple[int, ...] = ()
    frequencies: Mapping[str, int] = field(default_factory=dict)
    other: int = 0
    resolution: int = SKETCH_BINS  # sketch bins; 20 for profiles stored before format 2

    @property
    def rows(self) -> int:
        return self.count + self.missing + self.invalid

    def cdf_at(self, points: np.ndarray) -> np.ndarray:
        """Share of values at or below each point, linear between sketch edges."""
        edges = np.asarray(self.sketch_edges, dtype=np.float64)
        cumulative = np.asarray(self.sketch_cumulative, dtype=np.float64) / max(self.count, 1)
        if edges.size == 0:
            return np.zeros_like(points, dtype=np.float64)
        share = np.interp(points, edges, cumulative, left=0.0, right=1.0)
        return np.where(points >= edges[-1], 1.0, share)

    def to_dict(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "distinct": self.distinct,
        }
        if self.kind == "categorical":
            return base | {"top": dict(self.frequencies), "other": self.other}
        return base | {
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "quantiles": dict(self.quantiles),
            "sketch": {
                "bins": self.resolution,
                "edges": list(self.sketch_edges),
                "cumulative": list(self.sketch_cumulative),
                "sums": list(self.sketch_sums),
            },
            "histogram": {
                "edges": list(self.histogram_edges),
                "counts": list(self.histogram_counts),
            },
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> ColumnProfile:
        """Reads format 2, and the older registry shape (20-bin histogram, top values)."""
        try:
            kind = data["kind"]
            if kind not in ("numeric", "categorical"):
                raise ValueError(f"unknown kind {kind!r}")
            missing = int(data.get("missing", data.get("nulls", 0)))
            if kind == "categorical":
                top = {str(k): int(v) for k, v in dict(data.get("top") or {}).items()}
                count = int(data.get("count", sum(top.values())))
                other = int(data.get("other", count - sum(top.values())))
                return cls(
                    name,
                    "categorical",
                    count,
                    missing,
                    int(data.get("invalid", 0)),
                    _opt_int(data.get("distinct")),
                    frequencies=top,
                    other=max(other, 0),
                )
            return _numeric_from_dict(cls, name, data, missing)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"profile of column {name!r} is malformed: {exc}") from None


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _numeric_from_dict(
    cls: type[ColumnProfile], name: str, data: Mapping[str, Any], missing: int
) -> ColumnProfile:
    histogram = data.get("histogram") or {}
    sketch = data.get("sketch")
    if sketch is not None:
        edges = tuple(float(v) for v in sketch["edges"])
        cumulative = tuple(int(v) for v in sketch["cumulative"])
        sums = tuple(float(v) for v in sketch.get("sums") or ())
        resolution = int(sketch.get("bins", max(len(edges) - 1, 1)))
    elif histogram.get("edges"):  # stored before format 2: the histogram is the sketch
        edges = tuple(float(v) for v in histogram["edges"])
        cumulative = (0, *np.cumsum([int(c) for c in histogram["counts"]]).tolist())
        sums = ()
        resolution = max(len(edges) - 1, 1)
    else:
        edges, cumulative, sums, resolution = (), (), (), SKETCH_BINS
    if len(edges) != len(cumulative) or (sums and len(sums) != len(edges)):
        raise ValueError("sketch edges and counts differ in length")
    return cls(
        name,
        "numeric",
        int(data.get("count", 0)),
        missing,
        int(data.get("invalid", 0)),
        _opt_int(data.get("distinct")),
        _opt_float(data.get("mean")),
        _opt_float(data.get("std")),
        _opt_float(data.get("min")),
        _opt_float(data.get("max")),
        {str(k): float(v) for k, v in dict(data.get("quantiles") or {}).items()},
        edges,
        cumulative,
        sums,
        tuple(float(v) for v in histogram.get("edges", ())),
        tuple(int(v) for v in histogram.get("counts", ())),
        resolution=resolution,
    )


@dataclass(frozen=True)
class DatasetProfile:
    rows: int
    columns: Mapping[str, ColumnProfile]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), Mapping):
            raise InvalidInput("a profile is an object with 'rows' and 'columns'")
        stored = data["columns"]
        columns = {str(n): ColumnProfile.from_dict(str(n), c) for n, c in stored.items()}
        rows = data.get("rows")
        if rows is None:
            rows = max((c.rows for c in columns.values()), default=0)
        return cls(int(rows), columns)


def profile_numeric(
    name: str, values: np.ndarray, *, missing: int = 0, invalid: int = 0, bins: int = SKETCH_BINS
) -> ColumnProfile:
    """Profile finite values (any order); sorts them once."""
    ordered = np.sort(values)
    return profile_sorted(name, ordered, missing=missing, invalid=invalid, bins=bins)


def profile_sorted(
    name: str, ordered: np.ndarray, *, missing: int = 0, invalid: int = 0, bins: int = SKETCH_BINS
) -> ColumnProfile:
    n = int(ordered.size)
    if n == 0:
        return ColumnProfile(name, "numeric", 0, missing, invalid, 0, resolution=bins)
    # The smallest value with F >= j / bins, for every j: so quantile bins of any divisor
    # of ``bins`` (deciles of 500) fall exactly on sketch edges.
    ranks = -(-np.arange(bins + 1, dtype=np.int64) * n // bins) - 1
    positions = np.maximum(ranks, 0)
    edges = np.unique(ordered[positions])
    cumulative = np.searchsorted(ordered, edges, side="right")
    sums = np.cumsum(ordered)[cumulative - 1]
    low, high = float(ordered[0]), float(ordered[-1])
    counts, hist_edges = np.histogram(ordered, bins=HISTOGRAM_BINS, range=(low, high))
    distinct = 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
    quantiles = np.quantile(ordered, SUMMARY_QUANTILES)
    return ColumnProfile(
        name,
        "numeric",
        n,
        missing,
        invalid,
        distinct,
        float(ordered.mean()),
        float(ordered.std()),
        low,
        high,
        {str(q): float(v) for q, v in zip(SUMMARY_QUANTILES, quantiles, strict=True)},
        tuple(edges.tolist()),
        tuple(cumulative.tolist()),
        tuple(sums.tolist()),
        tuple(hist_edges.tolist()),
        tuple(counts.tolist()),
        resolution=bins,
    )


def profile_categorical(
    name: str, counts: Mapping[str, int], *, missing: int = 0, cap: int = CATEGORY_CAP
) -> ColumnProfile:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ordered[:cap])
    total = sum(counts.values())
    return ColumnProfile(
        name,
        "categorical",
        total,
        missing,
        distinct=len(counts),
        frequencies=kept,
        other=total - sum(kept.values()),
    )


def profile_column(
    data: read.Data, name: str, *, bins: int = SKETCH_BINS, category_cap: int = CATEGORY_CAP
) -> ColumnProfile:
    if read.kind_of(data, name) == "numeric":
        column = read.numeric(data, name)
        return profile_numeric(
            name, column.values, missing=column.missing, invalid=column.invalid, bins=bins
        )
    counted = read.categorical(data, name)
    return profile_categorical(name, counted.counts, missing=counted.missing, cap=category_cap)


def profile_dataset(
    data: pd.DataFrame | pa.Table,
    *,
    columns: Sequence[str] | None = None,
    bins: int = SKETCH_BINS,
    category_cap: int = CATEGORY_CAP,
) -> DatasetProfile:
    """Profile every column (or the named ones); unknown names are an error."""
    if not 2 <= bins <= 10_000:
        raise InvalidInput("sketch bins must be between 2 and 10000")
    if category_cap < 1:
        raise InvalidInput("category_cap must be at least 1")
    names = read.column_names(data)
    if columns is not None:
        unknown = sorted(set(columns) - set(names))
        if unknown:
            raise InvalidInput(f"no such columns in the data: {', '.join(unknown)}")
        names = list(columns)
    return DatasetProfile(
        read.row_count(data),
        {n: profile_column(data, n, bins=bins, category_cap=category_cap) for n in names},
    )
