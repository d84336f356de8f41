"""Reading one column of a pandas frame or an Arrow table as numbers or as category counts.

Profiles, drift and quality all need the same two views of a column, whatever container
it came in: finite float64 values (NaN for missing, infinities counted apart), or the
frequency of each value as text. Mixed-type columns are read as well as they can be and
say how many values did not fit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.errors import InvalidInput

Kind = Literal["numeric", "categorical"]


class ColumnSource(Protocol):
    """Anything read column by column like an Arrow table (e.g. a Parquet file)."""

    schema: pa.Schema
    num_rows: int

    def column(self, name: str) -> pa.ChunkedArray: ...

    def iter_batches(self, rows: int) -> Iterator[pa.RecordBatch]: ...


Data: TypeAlias = pd.DataFrame | pa.Table | pa.RecordBatch | ColumnSource


@dataclass(frozen=True)
class NumericColumn:
    """Finite values of a column (unsorted), with what was left out and why."""

    values: np.ndarray
    missing: int  # null or NaN
    invalid: int  # infinite, or text that is not a number


@dataclass(frozen=True)
class CategoricalColumn:
    counts: dict[str, int]
    missing: int


def column_names(data: Data) -> list[str]:
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    if isinstance(data, pa.Table | pa.RecordBatch) or hasattr(data, "iter_batches"):
        return list(data.schema.names)
    raise InvalidInput(f"expected a pandas DataFrame or an Arrow table, got {type(data).__name__}")


def row_count(data: Data) -> int:
    return len(data) if isinstance(data, pd.DataFrame) else int(data.num_rows)


def _arrow(data: Data, name: str) -> pa.ChunkedArray | pa.Array | None:
    if isinstance(data, pd.DataFrame):
        return None
    return data.column(name)


def _pandas(data: Data, name: str) -> pd.Series:
    if not isinstance(data, pd.DataFrame):
        raise TypeError("not a pandas DataFrame")
    for column in data.columns:
        if str(column) == name:
            series = data[column]
            return series.iloc[:, 0] if isinstance(series, pd.DataFrame) else series
    raise KeyError(name)


def _is_numeric_arrow(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    )


def kind_of(data: Data, name: str) -> Kind:
    """Numbers (integers, floats, decimals, times) are numeric; the rest is categorical."""
    if not isinstance(data, pd.DataFrame):
        stored = data.schema.field(name).type
        return "numeric" if _is_numeric_arrow(stored) else "categorical"
    series = _pandas(data, name)
    if pd.api.types.is_bool_dtype(series.dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(
        series.dtype
    ):
        return "numeric"
    return "categorical"


def _finite(values: np.ndarray, extra_invalid: int = 0) -> NumericColumn:
    nan = np.isnan(values)
    missing = int(np.count_nonzero(nan))
    finite = np.isfinite(values)
    infinite = values.size - missing - int(np.count_nonzero(finite))
    kept = values if missing + infinite == 0 else values[finite]
    return NumericColumn(kept, missing - extra_invalid, infinite + extra_invalid)


def numeric(data: Data, name: str) -> NumericColumn:
    """The column as finite float64 numbers; text that does not parse counts as invalid."""
    column = _arrow(data, name)
    if column is not None:
        if pa.types.is_timestamp(column.type):
            column = pc.cast(pc.cast(column, pa.timestamp("ns")), pa.int64())
        elif pa.types.is_temporal(column.type):
            column = pc.cast(column, pa.int64())
        if _is_numeric_arrow(column.type):
            floats = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
            return _finite(np.asarray(floats, dtype=np.float64))
        series = column.to_pandas()
    else:
        series = _pandas(data, name)
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = series.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
            stamps[series.isna().to_numpy()] = np.nan
            return _finite(stamps)
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype
        ):
            return _finite(series.to_numpy(dtype=np.float64, na_value=np.nan))
    parsed = pd.to_numeric(series.astype(object), errors="coerce").astype(np.float64)
    unparsed = int(parsed.isna().sum() - series.isna().sum())
    return _finite(parsed.to_numpy(dtype=np.float64, na_value=np.nan), extra_invalid=unparsed)


def categorical(data: Data, name: str) -> CategoricalColumn:
    """How often each value occurs, as text (``True``, ``3``, ``red``); nulls are missing."""
    column = _arrow(data, name)
    if column is not None:
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        counted = pc.value_counts(column)
        counts: dict[str, int] = {}
        missing = 0
        for value, count in zip(
            counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
        ):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                missing += int(count)
            else:
                key = _text(value)
                counts[key] = counts.get(key, 0) + int(count)
        return CategoricalColumn(counts, missing)
    series = _pandas(data, name)
    missing = int(series.isna().sum())
    counts = {}
    for value, count in series.dropna().value_counts(sort=False).items():
        key = _text(value)
        counts[key] = counts.get(key, 0) + int(count)
    return CategoricalColumn(counts, missing)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def select(data: Data, columns: Sequence[str] | None) -> list[str]:
    """The columns to look at: all of them, or the named ones that exist."""
    names = column_names(data)
    return names if columns is None else [c for c in columns if c in set(names)]


def batches(data: Data, rows: int = 1_000_000) -> Iterator[Data]:
    """Slices of at most ``rows`` rows, so per-column work stays in bounded memory."""
    if not isinstance(data, pd.DataFrame | pa.Table | pa.RecordBatch):
        yield from data.iter_batches(rows)
        return
    total = row_count(data)
    for start in range(0, max(total, 1), rows):
        if isinstance(data, pd.DataFrame):
            yield data.iloc[start : start + rows]
        else:
            yield data.slice(start, rows)
