"""Infer an input or output schema from a sample (DataFrame, Series, array or list)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelsteward.errors import InvalidInput


def _column_type(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    kind = np.dtype(dtype).kind if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else ""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) or kind in ("U", "S"):
        return "string"
    return "object"


def infer_schema(sample: Any) -> dict[str, Any]:
    """A ``SchemaSpec``-shaped dict: one entry per column, or one tensor entry."""
    if isinstance(sample, pd.Series):
        sample = sample.to_frame(name=sample.name if sample.name is not None else "prediction")
    if isinstance(sample, pd.DataFrame):
        return {
            "columns": [
                {
                    "name": str(name),
                    "type": _column_type(dtype),
                    "dtype": str(dtype),
                    "nullable": bool(sample[name].isna().any()),
                }
                for name, dtype in sample.dtypes.items()
            ]
        }
    array = np.asarray(sample)
    if array.dtype == object and array.ndim == 0:
        raise InvalidInput(f"cannot infer a schema from a {type(sample).__name__}")
    if array.ndim == 2 and array.shape[1] <= 10_000:
        return {
            "columns": [
                {"name": f"x{i}", "type": _column_type(array.dtype), "dtype": str(array.dtype)}
                for i in range(array.shape[1])
            ]
        }
    return {
        "columns": [
            {
                "name": "tensor",
                "type": "tensor",
                "dtype": str(array.dtype),
                "shape": [-1, *array.shape[1:]],
            }
        ]
    }
