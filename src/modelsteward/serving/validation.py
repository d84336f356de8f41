"""Turn scoring payloads into the frame (or tensor) a model version expects, or say why not.

Serving runs this before a model sees a request: columns are checked against the
version's input schema, coerced to its types and put in its order. Errors name the
field and the problem but never repeat submitted values, so no data reaches the logs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from modelsteward.errors import BadRequest, InvalidInput, StewardError
from modelsteward.serving.fastpath import numeric_table

MAX_ROWS = 1_000_000
MAX_COLUMNS = 10_000
MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
Payload: TypeAlias = pd.DataFrame | np.ndarray
Schema: TypeAlias = Mapping[str, Any] | None


def schema_columns(schema: Schema) -> list[dict[str, Any]]:
    return list(schema.get("columns") or []) if schema else []


def tensor_column(schema: Schema) -> dict[str, Any] | None:
    """The single ``tensor`` column of a tensor schema; None for tables and no schema."""
    columns = schema_columns(schema)
    return columns[0] if len(columns) == 1 and columns[0].get("type") == "tensor" else None


def numpy_dtype(dtype: object) -> np.dtype[Any] | None:
    """The numpy dtype behind a schema ``dtype`` ("float32", "Int64", "str"...), if any."""
    if dtype is None:
        return None
    try:
        resolved = pd.api.types.pandas_dtype(dtype)
    except (TypeError, ValueError):
        return None
    found = getattr(resolved, "numpy_dtype", resolved)
    return found if isinstance(found, np.dtype) else None


def names_of(names: Sequence[object], limit: int = 10) -> str:
    """Field names for a message: quoted, shortened and at most ``limit`` of them."""
    shown = ", ".join(repr(str(n)[:64]) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_size(rows: int, columns: int) -> None:
    if rows > MAX_ROWS:
        raise BadRequest(f"a request may carry at most {MAX_ROWS:,} rows; this one has {rows:,}")
    if columns > MAX_COLUMNS:
        raise BadRequest(f"a request may carry at most {MAX_COLUMNS:,} columns; got {columns:,}")


NO_ROWS = "the request carries no rows; send at least one row to predict"


def require_rows(inputs: Payload) -> Payload:
    """Refuse an empty frame or tensor before a model sees it: predicting nothing is the
    caller's mistake (400), never a model failure counted against the model."""
    rows = len(inputs) if np.ndim(inputs) else 1
    if rows == 0:
        raise BadRequest(NO_ROWS)
    return inputs


@dataclass(frozen=True, slots=True)
class Validated:
    """Inputs ready for the model, and the JSON (UTF-8 bytes) the log may keep for them as it is."""

    inputs: Payload
    logged_json: bytes | None = None


def records_from_body(records: object, schema: Schema, raw: bytes) -> Validated:
    """``frame_from_records`` for a request body, with the body itself as the log's text
    when it is exactly the validated rows (see ``NumericTable.from_body``)."""
    table = numeric_table(schema)
    found = table.from_body(records, raw) if table is not None else None
    if found is not None:
        return Validated(*found)
    return Validated(_conformed_records(records, schema))


def frame_from_records(records: object, schema: Schema) -> pd.DataFrame:
    """A list of row objects (``[{"age": 3}, ...]``), conformed to ``schema``."""
    table = numeric_table(schema)
    fast = table.from_records(records) if table is not None else None
    return fast if fast is not None else _conformed_records(records, schema)


def _conformed_records(records: object, schema: Schema) -> pd.DataFrame:
    frame = conform(_records_frame(records), schema)
    if not isinstance(frame, pd.DataFrame):
        raise BadRequest("this model takes a tensor; send 'instances' or 'inputs'")
    return frame


def _records_frame(records: object) -> pd.DataFrame:
    if not isinstance(records, list):
        raise BadRequest("records must be a non-empty list of objects")
    if not records:
        raise BadRequest(NO_ROWS)
    check_size(len(records), 0)
    keys: set[object] = set()
    for i, row in enumerate(records):
        if not isinstance(row, dict):
            raise BadRequest(f"record {i} is not an object")
        keys.update(row)
        check_size(0, len(keys))
    return pd.DataFrame.from_records(records)


def frame_from_mlflow(body: object, schema: Schema) -> Payload:
    """An MLflow scoring-server body, so MLflow callers can switch without code changes.

    ``params`` may sit beside the data; the caller reads it, it is not part of the frame.
    """
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    formats = [k for k in MLFLOW_FORMATS if k in body]
    if len(formats) != 1 or any(k not in MLFLOW_FORMATS and k != "params" for k in body):
        raise BadRequest(f"the body needs exactly one of {', '.join(MLFLOW_FORMATS)}")
    kind, payload = formats[0], body[formats[0]]
    if kind == "dataframe_records":
        return frame_from_records(payload, schema)
    if kind == "dataframe_split":
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise BadRequest("'dataframe_split' needs 'data', a list of rows")
        columns = payload.get("columns")
        if columns is None or tensor_column(schema) is not None:
            return conform(payload["data"], schema)
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise BadRequest("'dataframe_split.columns' must be a list of names")
        table = numeric_table(schema)
        fast = table.from_rows(payload["data"], columns) if table is not None else None
        if fast is not None:
            return fast
        return conform(_rows_frame(payload["data"], columns), schema)
    if kind == "inputs" and isinstance(payload, dict):
        if tensor_column(schema) is not None and len(payload) == 1:
            return conform(next(iter(payload.values())), schema)
        return conform(_columns_frame(payload), schema)
    if not isinstance(payload, list):
        raise BadRequest(f"'{kind}' must be a list")
    if payload and all(isinstance(row, dict) for row in payload):
        table = numeric_table(schema)
        fast = table.from_records(payload) if table is not None else None
        return fast if fast is not None else conform(_records_frame(payload), schema)
    return conform(payload, schema)


def _rows_frame(rows: object, names: list[str]) -> pd.DataFrame:
    if not isinstance(rows, list):
        raise BadRequest("rows must be a list of lists")
    check_size(len(rows), len(names))
    for i, row in enumerate(rows):
        if not isinstance(row, list | tuple) or len(row) != len(names):
            size = len(row) if isinstance(row, list | tuple) else 1
            raise BadRequest(f"row {i} has {size} values; expected {len(names)}")
    return pd.DataFrame(rows, columns=names)


def _positional(rows: object, names: list[str]) -> pd.DataFrame:
    """Rows given without names: values in schema order (one column: a flat list will do)."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.shape[1] == len(names):
        return pd.DataFrame(rows, columns=names)
    if (
        isinstance(rows, np.ndarray | list)
        and len(names) == 1
        and np.ndim(rows[0] if len(rows) else 0) == 0
    ):
        return pd.DataFrame({names[0]: rows})
    return _rows_frame(rows.tolist() if isinstance(rows, np.ndarray) else rows, names)


def _columns_frame(columns: dict[Any, Any]) -> pd.DataFrame:
    check_size(0, len(columns))
    lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if -1 in lengths:
        raise BadRequest("each input column must be a list of values")
    if len(lengths) > 1:
        raise BadRequest("input columns have different numbers of values")
    check_size(max(lengths, default=0), 0)
    return pd.DataFrame(columns)


def _as_array(value: object) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError):
        raise BadRequest("tensor data is ragged: every row needs the same length") from None


def conform(frame: object, schema: Schema) -> Payload:
    """Check and coerce a frame (or rows, or an array) to ``schema``; see the module doc."""
    tensor = tensor_column(schema)
    if tensor is not None:
        return _conform_tensor(frame, tensor)
    names = [c["name"] for c in schema_columns(schema)]
    if not names and not isinstance(frame, pd.DataFrame):
        array = _as_array(frame)
        check_size(array.shape[0] if array.ndim else 1, 0)
        return array
    table = frame if isinstance(frame, pd.DataFrame) else _positional(frame, names)
    check_size(*table.shape)
    if not names:
        return table
    present = [str(c) for c in table.columns]
    if len(set(present)) != len(present):
        raise BadRequest("column names must be unique")
    given, wanted = set(present), set(names)
    missing = [n for n in names if n not in given]
    if missing:
        raise InvalidInput(
            f"missing column(s) {names_of(missing)}", details={"missing": missing[:100]}
        )
    extra = [n for n in present if n not in wanted]
    if extra:
        raise InvalidInput(
            f"unexpected column(s) {names_of(extra)}; the model does not take them",
            details={"unexpected": [n[:64] for n in extra[:10]]},
        )
    source = dict(zip(present, table.columns, strict=True))
    return pd.DataFrame(
        {
            c["name"]: _coerce(table[source[c["name"]]].reset_index(drop=True), c)
            for c in schema_columns(schema)
        }
    )


_BOOL = (bool, np.bool_)
_NUMBER = (int, float, np.integer, np.floating)
_TEXT_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "category": lambda v: isinstance(v, str),
    "binary": lambda v: isinstance(v, str | bytes),
}
_WANTS = {"i": "whole-number", "u": "whole-number", "f": "numeric", "b": "boolean"}
_NUMERIC = {"integer": ("iu", "int64", "whole numbers"), "float": ("f", "float64", "numbers")}


def _each(values: np.ndarray, test: Callable[[Any], bool]) -> np.ndarray:
    return np.fromiter((test(v) for v in values.flat), bool, values.size).reshape(values.shape)


def _is_whole(v: Any, low: int, high: int) -> bool:
    if isinstance(v, _BOOL) or not isinstance(v, _NUMBER):
        return False
    whole = isinstance(v, int | np.integer) or (math.isfinite(v) and v == int(v))
    return bool(whole and low <= v <= high)


def _kind_mask(values: np.ndarray, kinds: str, test: Callable[[Any], bool]) -> np.ndarray:
    if values.dtype.kind in kinds:
        return np.ones(values.shape, bool)
    return _each(values, test) if values.dtype.kind == "O" else np.zeros(values.shape, bool)


def accepted(values: np.ndarray, target: np.dtype[Any]) -> np.ndarray:
    """Which values may become ``target`` without losing meaning (no bool as int, no text)."""
    if target.kind in "iu":
        low, high = int(np.iinfo(target).min), int(np.iinfo(target).max)
        if values.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(values) & (values == np.floor(values))
                return whole & (values >= low) & (values < float(high) + 1)
        if values.dtype.kind in "iu":
            return (values >= low) & (values <= high)
        return _kind_mask(values, "", lambda v: _is_whole(v, low, high))
    if target.kind == "f":
        return _kind_mask(
            values, "iuf", lambda v: isinstance(v, _NUMBER) and not isinstance(v, _BOOL)
        )
    if target.kind == "b":
        return _kind_mask(values, "b", lambda v: isinstance(v, _BOOL))
    if target.kind in "OUS":
        return _kind_mask(values, "US", lambda v: isinstance(v, str))
    return np.ones(values.shape, bool)


def cast_array(
    array: np.ndarray, dtype: object, *, field: str, error: type[StewardError] = InvalidInput
) -> np.ndarray:
    """``array`` as ``dtype``, refusing lossy casts; messages name ``field``, never values."""
    target = numpy_dtype(dtype)
    if target is None:
        return array
    if not accepted(array, target).all():
        wider = {"i": "int64", "u": "uint64"}.get(target.kind)
        if wider and accepted(array, np.dtype(wider)).all():
            raise error(f"{field} has values out of range for {target.name}")
        raise error(f"{field} needs {_WANTS.get(target.kind, 'text')} values")
    if target.kind in "OUS":
        return array.astype(object)
    try:
        with np.errstate(over="raise", invalid="raise"):
            return array.astype(target)
    except (FloatingPointError, OverflowError, TypeError, ValueError):
        raise error(f"{field} has values out of range for {target.name}") from None


def _conform_tensor(value: object, column: dict[str, Any]) -> np.ndarray:
    name, expected = str(column["name"]), column.get("shape")
    if isinstance(value, pd.DataFrame):
        value = value.iloc[:, 0].tolist() if value.shape[1] == 1 else value.to_numpy()
    array = _as_array(value)
    check_size(array.shape[0] if array.ndim else 1, 0)
    nulls = _each(array, lambda v: v is None) if array.dtype.kind == "O" else None
    if nulls is not None and nulls.any():
        if not column.get("nullable"):
            raise InvalidInput(f"tensor {name!r} is not nullable; it holds a null")
        array = np.where(nulls, np.nan, array)
    array = cast_array(array, column.get("dtype"), field=f"tensor {name!r}")
    if expected is not None and not (
        len(expected) == array.ndim
        and all(e in (-1, s) for s, e in zip(array.shape, expected, strict=True))
    ):
        raise BadRequest(f"tensor {name!r} expects shape {expected}, received {list(array.shape)}")
    return array


def _coerce(series: pd.Series, column: dict[str, Any]) -> pd.Series:
    """One column checked against its schema entry and cast to its type and dtype."""
    name, kind, wanted = str(column["name"]), column.get("type"), column.get("dtype")
    nulls = series.isna().to_numpy(dtype=bool)
    if nulls.any() and not column.get("nullable", False):
        row = int(np.argmax(nulls))
        raise InvalidInput(
            f"column {name!r} is not nullable; row {row} is null",
            details={"column": name, "row": row},
        )
    values = series.to_numpy()
    if kind in _NUMERIC:
        kinds, default, needs = _NUMERIC[kind]
        target = numpy_dtype(wanted)
        target = target if target is not None and target.kind in kinds else np.dtype(default)
        _require(accepted(values, target) | nulls, name, needs)
        if nulls.any() and target.kind in "iu":
            return series.astype(f"{'U' if target.kind == 'u' else ''}Int{target.itemsize * 8}")
        return series.astype(target)
    if kind == "boolean":
        _require(accepted(values, np.dtype(bool)) | nulls, name, "booleans")
        return series.astype("boolean" if nulls.any() else bool)
    if kind == "datetime":
        return _to_datetime(series, name, wanted, nulls)
    if kind in _TEXT_TESTS:
        _require(
            _kind_mask(values, "U", _TEXT_TESTS[kind]) | nulls,
            name,
            "strings" if kind != "binary" else "bytes or strings",
        )
        return series.astype(wanted if wanted in ("category", "str", "string") else object)
    return series


def _require(ok: np.ndarray, name: str, needs: str) -> None:
    if not ok.all():
        row = int(np.argmin(ok))
        raise InvalidInput(
            f"column {name!r} needs {needs}; the value in row {row} is not one",
            details={"column": name, "row": row},
        )


def _to_datetime(series: pd.Series, name: str, wanted: object, nulls: np.ndarray) -> pd.Series:
    """ISO 8601 text to date-times; offsets are honoured, then shown in the schema's zone."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        texts = _kind_mask(series.to_numpy(), "U", lambda v: isinstance(v, str | datetime))
        _require(texts | nulls, name, "ISO 8601 date-times")
        series = pd.to_datetime(series, format="ISO8601", utc=True, errors="coerce")
        _require(series.notna().to_numpy(dtype=bool) | nulls, name, "ISO 8601 date-times")
    try:
        target = pd.api.types.pandas_dtype(wanted or "datetime64[ns]")
    except (TypeError, ValueError):
        target = np.dtype("datetime64[ns]")
    if not pd.api.types.is_datetime64_any_dtype(target):
        target = np.dtype("datetime64[ns]")
    zone = getattr(target, "tz", None)
    if series.dt.tz is not None:
        series = series.dt.tz_convert(zone)
    elif zone is not None:
        series = series.dt.tz_localize(zone)
    return series.astype(target)
