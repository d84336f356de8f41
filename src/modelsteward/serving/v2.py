"""Open Inference Protocol (KServe V2 REST) codec: requests in, responses and metadata out.

A tabular version takes one V2 input per column (shape ``[n]`` or ``[n, 1]``) or one
2-D input whose columns follow the schema's order; a tensor version takes one input.
Data travels as JSON ``data`` (flat or nested, row-major); Triton's binary-data
extension is refused. Errors name the input, never its values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelsteward.errors import BadRequest
from modelsteward.serving.validation import (
    MAX_COLUMNS,
    Payload,
    Schema,
    cast_array,
    conform,
    names_of,
    numpy_dtype,
    schema_columns,
    tensor_column,
)

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    **{f"UINT{b}": np.dtype(f"uint{b}") for b in (8, 16, 32, 64)},
    **{f"INT{b}": np.dtype(f"int{b}") for b in (8, 16, 32, 64)},
    **{f"FP{b}": np.dtype(f"float{b}") for b in (16, 32, 64)},
    "BYTES": np.dtype(object),
}
_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}
_DEFAULT_DATATYPE = {"integer": "INT64", "float": "FP64", "boolean": "BOOL", "tensor": "FP32"}


@dataclass(frozen=True, eq=False)
class DecodedRequest:
    """An inference request made ready for a model: inputs conformed to its schema."""

    inputs: Payload
    request_id: str | None
    parameters: dict[str, Any]
    requested_outputs: list[str]


def decode_request(body: object, schema: Schema) -> DecodedRequest:
    """Parse a V2 inference request body and conform its inputs to ``schema``."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    items = body.get("inputs")
    if not isinstance(items, list) or not items:
        raise BadRequest("'inputs' must be a non-empty list")
    if len(items) > MAX_COLUMNS:
        raise BadRequest(f"a request may carry at most {MAX_COLUMNS:,} inputs")
    request_id, parameters = body.get("id"), body.get("parameters") or {}
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest("'id' must be a string")
    if not isinstance(parameters, dict):
        raise BadRequest("'parameters' must be an object")
    outputs = body.get("outputs") or []
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise BadRequest("'outputs' must be a list of objects with a 'name'")
    tensors = [_decode_input(item, i) for i, item in enumerate(items)]
    names = [name for name, _ in tensors]
    if len(set(names)) != len(names):
        raise BadRequest("input names must be unique")
    return DecodedRequest(
        inputs=_arrange(tensors, schema),
        request_id=request_id,
        parameters=dict(parameters),
        requested_outputs=[o["name"] for o in outputs],
    )


def _decode_input(item: object, index: int) -> tuple[str, np.ndarray]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise BadRequest(f"input {index} must be an object with a 'name'")
    name = item["name"]
    label = f"input {name[:64]!r}"
    shape = item.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in shape
    ):
        raise BadRequest(f"{label} needs 'shape', a list of integers")
    if len(shape) > 32:
        raise BadRequest(f"{label} has more than 32 dimensions")
    if any(d < 0 for d in shape):
        raise BadRequest(f"{label} has a negative dimension in its shape")
    datatype = item.get("datatype")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise BadRequest(f"{label} has an unknown datatype; use one of {', '.join(DATATYPES)}")
    parameters = item.get("parameters")
    if isinstance(parameters, dict) and "binary_data_size" in parameters:
        raise BadRequest(f"{label} uses binary data, which is not supported; send 'data'")
    data = item.get("data")
    if not isinstance(data, list):
        raise BadRequest(f"{label} needs 'data', a flat or nested list")
    try:
        values = np.asarray(data, dtype=object if datatype == "BYTES" else None).ravel()
    except (ValueError, TypeError):
        raise BadRequest(f"{label} has ragged 'data'") from None
    needed = math.prod(shape)
    if values.size != needed:
        dims = ",".join(str(d) for d in shape)
        raise BadRequest(f"{label}: shape [{dims}] needs {needed} values, got {values.size}")
    array = cast_array(values, DATATYPES[datatype], field=f"{label} ({datatype})", error=BadRequest)
    return name, array.reshape(shape)


def _arrange(tensors: list[tuple[str, np.ndarray]], schema: Schema) -> Payload:
    """Map named V2 tensors onto the schema: one tensor, a 2-D table, or one per column."""
    names = [str(c["name"]) for c in schema_columns(schema)]
    if len(tensors) == 1 and (not names or tensor_column(schema) is not None):
        return conform(tensors[0][1], schema)
    if tensor_column(schema) is not None:
        raise BadRequest(f"the model takes one tensor input; got {len(tensors)}")
    first_name, first = tensors[0]
    if len(tensors) == 1 and first.ndim == 2 and not (first_name in names and first.shape[1] == 1):
        if first.shape[1] != len(names):
            raise BadRequest(
                f"input {first_name[:64]!r} has {first.shape[1]} columns; "
                f"the model takes {len(names)} ({names_of(names)})"
            )
        return conform(pd.DataFrame(first, columns=names), schema)
    columns: dict[str, np.ndarray] = {}
    for name, array in tensors:
        if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] != 1):
            raise BadRequest(f"input {name[:64]!r} must have shape [n] or [n, 1] to fill a column")
        columns[name] = array.reshape(-1)
    if len({len(a) for a in columns.values()}) > 1:
        raise BadRequest("inputs have different numbers of rows")
    return conform(pd.DataFrame(columns), schema)


def encode_response(
    model_name: str,
    model_version: str,
    request_id: str | None,
    outputs: object,
    *,
    requested: list[str] | None = None,
) -> dict[str, Any]:
    """A V2 response: one output per DataFrame column (or mapping key), else ``predict``.

    ``requested`` keeps only the outputs a request asked for, in that order.
    """
    named = _named_outputs(outputs)
    if requested:
        unknown = [n for n in requested if n not in named]
        if unknown:
            raise BadRequest(
                f"requested output(s) {names_of(unknown)} are not produced; "
                f"available: {names_of(list(named))}"
            )
        named = {n: named[n] for n in requested}
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id:
        response["id"] = request_id
    response["outputs"] = [encode_tensor(name, values) for name, values in named.items()]
    return response


def _named_outputs(outputs: object) -> dict[str, Any]:
    if isinstance(outputs, pd.DataFrame):
        return {str(c): outputs[c] for c in outputs.columns}
    if isinstance(outputs, pd.Series):
        return {"predict" if outputs.name is None else str(outputs.name): outputs}
    if isinstance(outputs, Mapping):
        return {str(k): v for k, v in outputs.items()}
    return {"predict": outputs}


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


def datatype_of(column: Mapping[str, Any]) -> str:
    """The V2 datatype for a schema column: from its dtype where numeric, else BYTES."""
    kind = column.get("type")
    if kind not in _DEFAULT_DATATYPE:
        return "BYTES"
    dtype = numpy_dtype(column.get("dtype"))
    found = _BY_DTYPE.get(dtype) if dtype is not None else None
    return found or _DEFAULT_DATATYPE[kind]
