"""Numeric feature columns as one float matrix, scaled robustly and with gaps filled.

Multivariate monitors look at the numeric columns only (integers, floats, decimals;
booleans, text, categories and timestamps are left out). A missing or non-finite cell
becomes the column's reference median, which is 0 after scaling, and is counted, so a
window full of gaps is reported rather than silently read as typical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

IQR_TO_STD = 1.3489795003921634  # the IQR of a standard normal


@dataclass(frozen=True)
class Matrix:
    """Rows by columns as float64, NaN where a cell was missing or not finite."""

    values: np.ndarray
    columns: list[str]
    missing: int  # null or NaN cells
    non_finite: int  # infinite cells

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])


def _numeric_arrow(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def numeric_names(data: pd.DataFrame | pa.Table) -> list[str]:
    """The columns that hold numbers (booleans and timestamps are not features here)."""
    if isinstance(data, pa.Table):
        return [f.name for f in data.schema if _numeric_arrow(f.type)]
    return [
        str(name)
        for name in data.columns
        if pd.api.types.is_numeric_dtype(data[name].dtype)
        and not pd.api.types.is_bool_dtype(data[name].dtype)
    ]


def _column(data: pd.DataFrame | pa.Table, name: str) -> np.ndarray:
    if isinstance(data, pa.Table):
        floats = pc.cast(data.column(name), pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(floats, dtype=np.float64)
    series = data[next(c for c in data.columns if str(c) == name)]
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def read_matrix(
    data: pd.DataFrame | pa.Table, columns: Sequence[str], rows: np.ndarray | None = None
) -> Matrix:
    """``columns`` of ``data`` (only ``rows``, when given) as a float matrix."""
    if rows is not None:
        data = data.take(pa.array(rows)) if isinstance(data, pa.Table) else data.iloc[rows]
    n = data.num_rows if isinstance(data, pa.Table) else len(data)
    values = np.empty((n, len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        values[:, j] = _column(data, name)
    nan = np.isnan(values)
    infinite = int(np.count_nonzero(~nan & ~np.isfinite(values)))
    values[~np.isfinite(values)] = np.nan
    return Matrix(values, list(columns), int(np.count_nonzero(nan)), infinite)


def robust_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the median and a spread (IQR / 1.349, else the standard deviation);
    NaN where a column has no finite value, 0 where it is constant."""
    center = np.full(values.shape[1], np.nan)
    scale = np.zeros(values.shape[1])
    for j in range(values.shape[1]):
        finite = values[:, j][~np.isnan(values[:, j])]
        if finite.size == 0:
            continue
        q1, center[j], q3 = np.quantile(finite, [0.25, 0.5, 0.75])
        spread = (q3 - q1) / IQR_TO_STD
        scale[j] = spread if spread > 0 else float(finite.std())
    return center, scale


def scaled(values: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(x - median) / spread, with every gap at 0, the reference median."""
    z = (values - center) / scale
    z[~np.isfinite(z)] = 0.0
    return z
