"""A numeric fast path for schema validation, for the common all-float table.

Most tabular models take only numbers. For a schema whose columns are all ``float`` of
one NumPy dtype, JSON records are gathered straight into one array in schema order,
checked in a few vectorised passes, and wrapped in a DataFrame whose column index is
built once per schema. This takes a one-row request from thousands of Python calls
(``DataFrame.from_records`` and a per-column check) to a few dozen.

The fast path only ever accepts: anything unusual (a missing or extra key, a null, a
boolean, text, a non-finite or out-of-range number) makes it return None, and the general
path in ``serving.validation`` runs and words the error. Answers and errors are therefore
the same either way; a test pins that.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

_NUMBERS = frozenset({int, float})
_CACHE_SIZE = 256


class NumericTable:
    """A compiled all-float schema: column order, index and dtype, built once."""

    def __init__(self, names: list[str], dtype: np.dtype[Any], max_rows: int) -> None:
        self.names = tuple(names)
        self.columns = pd.Index(names)
        self.dtype = dtype
        self.dtypes = (dtype,) * len(names)
        self.max_rows = max_rows
        self._row: Callable[[Any], tuple[Any, ...]] = _getter(names)
        # Names without a colon, quote or backslash, so a body's members can be counted.
        self._plain_names = not any(c in n for n in names for c in ':"\\')

    def wrap(self, block: np.ndarray) -> pd.DataFrame:
        """A DataFrame over ``block`` (owned by the caller) with the schema's columns."""
        return pd.DataFrame(block, columns=self.columns, copy=False)

    def from_records(self, records: object) -> pd.DataFrame | None:
        """``[{"f0": 1.5, ...}, ...]`` as a frame, or None when the general path must decide."""
        found = self.from_body(records, None)
        return found[0] if found is not None else None

    def from_body(
        self, records: object, raw: bytes | None
    ) -> tuple[pd.DataFrame, bytes | None] | None:
        """``from_records``, and ``raw`` (the body ``records`` came from) as the log's text
        for them when it already is exactly that: floats only, no key twice (members may
        come in any order: a JSON object has none). The log then keeps the body as sent
        instead of writing the rows again. It keeps the bytes, never decoded on the
        request's path: an ASCII body is already valid UTF-8 text."""
        if type(records) is not list or not records or len(records) > self.max_rows:
            return None
        if set(map(type, records)) != {dict}:
            return None
        width = len(self.names)
        if set(map(len, records)) != {width}:
            return None
        values = self._values_in_order(records)
        if values is None:
            return None
        kinds = set(map(type, values))
        frame = self._block(values, len(records)) if kinds <= _NUMBERS else None
        if frame is None:
            return None
        verbatim = (
            raw is not None
            and self._plain_names
            and kinds == {float}
            and raw.isascii()  # so valid UTF-8 without a byte-order mark, ...
            and raw.lstrip()[:1] == b"["
            and b"\x00" not in raw  # ... and not UTF-16 or UTF-32
            and raw.count(b":") == len(records) * width  # one per member: no key twice
        )
        return frame, raw if verbatim else None

    def from_rows(self, rows: object, columns: object) -> pd.DataFrame | None:
        """MLflow ``dataframe_split`` rows with their column names, or None."""
        if type(rows) is not list or not rows or len(rows) > self.max_rows:
            return None
        if type(columns) is not list or columns != list(self.names):
            return None
        if set(map(type, rows)) != {list} or set(map(len, rows)) != {len(self.names)}:
            return None
        values = list(chain.from_iterable(rows))
        if not set(map(type, values)) <= _NUMBERS:
            return None
        return self._block(values, len(rows))

    def _values_in_order(self, records: list[dict[str, Any]]) -> list[Any] | None:
        """Every record's values in schema order, as one flat list; None if a name is missing.

        Records whose members all come in schema order (what a client serialising one
        DataFrame sends) are read straight from their values, with no tuple per row;
        any other order is put right name by name."""
        first = list(records[0])
        in_order = tuple(first) == self.names
        if in_order and list(chain.from_iterable(records)) == first * len(records):
            return list(chain.from_iterable(map(dict.values, records)))
        try:
            return list(chain.from_iterable(map(self._row, records)))
        except KeyError:
            return None

    def _block(self, values: list[Any], rows: int) -> pd.DataFrame | None:
        """``values`` (rows x names, row-major) as a frame of the schema's dtype, or None."""
        width = len(self.names)
        try:  # via float64, as the general path casts int64 and float64 columns
            block = np.fromiter(values, np.float64, rows * width).reshape(rows, width)
            if self.dtype != block.dtype:
                with np.errstate(over="ignore"):
                    block = block.astype(self.dtype)
        except (OverflowError, ValueError, TypeError):
            return None
        if not np.isfinite(block).all():  # NaN (a null) or a value out of the dtype's range
            return None
        return self.wrap(block)


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A row's values in ``names`` order, as a tuple even for one name."""
    get: Any = itemgetter(*names)
    return get if len(names) > 1 else lambda row: (get(row),)


def _float_dtype(column: Mapping[str, Any]) -> np.dtype[Any] | None:
    from modelsteward.serving.validation import numpy_dtype  # validation imports this module

    if column.get("type") != "float" or not isinstance(column.get("name"), str):
        return None
    wanted = numpy_dtype(column.get("dtype"))
    return wanted if wanted is not None and wanted.kind == "f" else np.dtype("float64")


def compile_numeric(schema: Mapping[str, Any] | None) -> NumericTable | None:
    """The fast path for ``schema``, or None when some column is not a plain float."""
    from modelsteward.serving.validation import MAX_COLUMNS, MAX_ROWS

    columns = list(schema.get("columns") or []) if schema else []
    if not columns or len(columns) > MAX_COLUMNS:
        return None
    dtypes = [_float_dtype(c) for c in columns]
    first = dtypes[0]
    if first is None or any(d is None or d != first for d in dtypes):
        return None
    names = [str(c["name"]) for c in columns]
    if len(set(names)) != len(names):
        return None
    return NumericTable(names, first, MAX_ROWS)


class _Compiled:
    """Compiled schemas by identity; a loaded version keeps its schema dict for its life."""

    def __init__(self) -> None:
        self._found: OrderedDict[int, tuple[object, NumericTable | None]] = OrderedDict()
        self._by_columns: dict[int, NumericTable] = {}
        self._lock = threading.Lock()

    def get(self, schema: Mapping[str, Any] | None) -> NumericTable | None:
        if schema is None:
            return None
        key = id(schema)
        hit = self._found.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        table = compile_numeric(schema)
        with self._lock:
            self._found[key] = (schema, table)  # holding the schema keeps its id unique
            if table is not None:
                self._by_columns[id(table.columns)] = table
            while len(self._found) > _CACHE_SIZE:
                _, (_, gone) = self._found.popitem(last=False)
                if gone is not None:
                    self._by_columns.pop(id(gone.columns), None)
        return table

    def block_of(self, frame: pd.DataFrame) -> tuple[tuple[str, ...], np.ndarray] | None:
        """Names and block of a frame this fast path made (its column index is the
        table's own object), without asking pandas for its dtypes; else None."""
        table = self._by_columns.get(id(frame.columns))
        if table is None or table.columns is not frame.columns:
            return None
        block = frame.to_numpy()
        return (table.names, block) if block.dtype == table.dtype else None

    def shape_of(self, frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[Any, ...]] | None:
        """Column names and dtypes of a frame this fast path made, as pandas would give."""
        table = self._by_columns.get(id(frame.columns))
        if table is None or table.columns is not frame.columns:
            return None
        return table.names, table.dtypes


_compiled = _Compiled()
numeric_table = _compiled.get
numeric_block = _compiled.block_of
numeric_shape = _compiled.shape_of
