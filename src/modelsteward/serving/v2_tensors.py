"""V2 tensors: the protocol's datatypes, an output array written as a tensor, and the
model metadata document whose tensors derive from a version's schemas."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modelsteward.serving.validation import Schema, numpy_dtype, schema_columns

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    **{f"UINT{b}": np.dtype(f"uint{b}") for b in (8, 16, 32, 64)},
    **{f"INT{b}": np.dtype(f"int{b}") for b in (8, 16, 32, 64)},
    **{f"FP{b}": np.dtype(f"float{b}") for b in (16, 32, 64)},
    "BYTES": np.dtype(object),
}
_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}
_DEFAULT_DATATYPE = {"integer": "INT64", "float": "FP64", "boolean": "BOOL", "tensor": "FP32"}


def encode_tensor(name: str, values: object) -> dict[str, Any]:
    """One V2 output tensor: datatype from the dtype, shape, and flat row-major data."""
    array = np.atleast_1d(_output_array(values))
    datatype = _BY_DTYPE.get(array.dtype)
    if datatype is not None:
        data = array.ravel().tolist()
    else:
        if array.dtype.kind in "Mm":
            array = np.datetime_as_string(array) if array.dtype.kind == "M" else array.astype(str)
        datatype, data = "BYTES", [_text(v) for v in array.ravel().tolist()]
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}


def _output_array(values: object) -> np.ndarray:
    if isinstance(values, pd.Series):
        dtype = values.dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and numeric:
            if values.isna().any():
                return values.to_numpy(dtype="float64", na_value=np.nan)
            return values.to_numpy(dtype=numpy_dtype(dtype))
        values = values.to_numpy(dtype=object if isinstance(dtype, pd.CategoricalDtype) else None)
    array = np.asarray(values)
    if array.dtype.kind == "O" and array.size:
        kind = pd.api.types.infer_dtype(array.ravel(), skipna=False)
        target = {"integer": "int64", "floating": "float64", "boolean": "bool"}.get(kind)
        if kind == "mixed-integer-float":
            target = "float64"
        if target is not None:
            try:
                return array.astype(target)
            except (OverflowError, TypeError, ValueError):
                return array
    return array


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def datatype_of(column: Mapping[str, Any]) -> str:
    """The V2 datatype for a schema column: from its dtype where numeric, else BYTES."""
    kind = column.get("type")
    if kind not in _DEFAULT_DATATYPE:
        return "BYTES"
    dtype = numpy_dtype(column.get("dtype"))
    found = _BY_DTYPE.get(dtype) if dtype is not None else None
    return found or _DEFAULT_DATATYPE[kind]


def model_metadata(
    name: str,
    versions: list[str],
    schema_in: Schema,
    schema_out: Schema,
    platform: str,
) -> dict[str, Any]:
    """The ``GET /v2/models/{name}`` document, with tensors derived from the schemas."""
    return {
        "name": name,
        "versions": list(versions),
        "platform": platform,
        "inputs": _metadata_tensors(schema_in),
        "outputs": _metadata_tensors(schema_out),
    }


def _metadata_tensors(schema: Schema) -> list[dict[str, Any]]:
    return [
        {
            "name": str(c["name"]),
            "datatype": datatype_of(c),
            "shape": list(c.get("shape") or [-1]) if c.get("type") == "tensor" else [-1],
        }
        for c in schema_columns(schema)
    ]
