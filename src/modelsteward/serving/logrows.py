"""Inputs and outputs as the prediction log keeps them: JSON rows, written off the request path.

A request records its validated inputs and its outputs as they are (``Rows``); the log's
writer thread turns them into JSON text when it flushes. Frames of finite floats (the
numeric fast path's) skip ``DataFrame.to_dict``: their values are written by orjson
straight from the array, and for large frames interleaved with the column names by list
slicing, so a thousand-row request makes no per-row object at all. Everything else goes
through ``to_dict("records")`` / ``tolist`` and orjson. The text is the same JSON either
way: records in column order, floats always written as floats (``2.0``, ``1e16``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from modelsteward.serving.codec import dumps
from modelsteward.serving.fastpath import numeric_block
from modelsteward.serving.scoring import ClassifierAnswer

INTERLEAVE_FROM_ROWS = 64
WRAP_FROM_BYTES = 16 * 1024  # kept bodies this large become Arrow strings without a copy


class Rows:
    """Inputs or outputs as the model saw them (a frame, an array, a list...).

    The value must not be mutated once recorded: the writer reads it later. ``text``,
    when given, is the value's JSON already at hand (a request body that is exactly
    the validated rows: bytes kept as they came, which must be valid UTF-8 because the
    writer wraps large ones unchecked, see ``text_column``), and then only the value's
    length is kept: a large request's frame is freed as soon as it is answered
    instead of waiting for the next flush.
    """

    __slots__ = ("count", "text", "value")

    def __init__(self, value: Any, text: str | bytes | None = None) -> None:
        self.text = text
        self.value: Any = value if text is None else None
        self.count = len(value) if text is not None else 0

    def rows(self) -> list[Any]:
        """JSON-friendly rows: records for a frame, a list for anything else."""
        value = self.value
        if isinstance(value, ClassifierAnswer):
            return value.log_rows()
        if isinstance(value, pd.DataFrame):
            return value.to_dict("records")
        if isinstance(value, pd.Series | np.ndarray):
            return value.tolist()
        return list(value)


def float_block(value: object) -> tuple[tuple[str, ...], np.ndarray] | None:
    """Column names and a float64 block for a frame of finite floats only; else None."""
    if not isinstance(value, pd.DataFrame) or 0 in value.shape:
        return None
    found = numeric_block(value)
    if found is not None:
        names, block = found[0], found[1].astype(np.float64, copy=False)
        return (names, block) if np.isfinite(block).all() else None
    dtypes = set(value.dtypes)
    dtype = dtypes.pop() if len(dtypes) == 1 else None
    if not isinstance(dtype, np.dtype) or dtype.kind != "f":
        return None
    block = value.to_numpy(dtype=np.float64)
    if not np.isfinite(block).all():
        return None
    return tuple(str(c) for c in value.columns), block


def encode(values: Sequence[list[Any] | Rows]) -> tuple[list[str | bytes], list[int]]:
    """The JSON text (or its UTF-8 bytes) and row count of each of ``values``, in order."""
    texts: list[str | bytes] = []
    counts: list[int] = []
    for value in values:
        if isinstance(value, Rows) and value.text is not None:
            texts.append(value.text)
            counts.append(value.count)
            continue
        if isinstance(value, Rows) and isinstance(value.value, ClassifierAnswer):
            answer = value.value
            text = columns_json(answer.columns()) if len(answer) >= INTERLEAVE_FROM_ROWS else None
            if text is not None:
                texts.append(text)
                counts.append(len(answer))
                continue
        found = float_block(value.value) if isinstance(value, Rows) else None
        if found is not None:
            names, block = found
            texts.append(records_json(names, block))
            counts.append(len(block))
            continue
        rows = value.rows() if isinstance(value, Rows) else value
        texts.append(dumps(rows).decode())
        counts.append(len(rows))
    return texts, counts


def text_column(texts: Sequence[str | bytes]) -> pa.ChunkedArray:
    """``texts`` as one Arrow string column, large kept bodies wrapped rather than copied.

    Converting a body of hundreds of kB into Arrow copies it and checks it is UTF-8 while
    holding the GIL; that was most of the writer's time on 1 000-row requests. A body kept
    verbatim is ASCII (``fastpath``), so valid UTF-8 already: its bytes become a one-value
    chunk in place. Runs of small texts are converted together, as one chunk each."""
    chunks: list[pa.Array] = []
    run: list[str | bytes] = []
    for text in texts:
        if isinstance(text, bytes) and WRAP_FROM_BYTES <= len(text) < 2**31:
            if run:
                chunks.append(pa.array(run, pa.string()))
                run = []
            offsets = pa.py_buffer(np.array([0, len(text)], dtype=np.int32))
            buffers = [None, offsets, pa.py_buffer(text)]
            chunks.append(pa.Array.from_buffers(pa.string(), 1, buffers))
        else:
            run.append(text)
    if run or not chunks:
        chunks.append(pa.array(run, pa.string()))
    return pa.chunked_array(chunks, pa.string())


def records_json(names: Sequence[str], block: np.ndarray) -> str:
    """``[{"name": value, ...}, ...]`` for a block of finite floats (rows x len(names)).

    A large block is written as one array by orjson and its values interleaved with the
    keys by list slicing, so no per-row object is ever made."""
    rows, width = block.shape
    if rows < INTERLEAVE_FROM_ROWS:
        return dumps([dict(zip(names, row, strict=True)) for row in block.tolist()]).decode()
    keys = [orjson.dumps(name).decode() for name in names]
    values = orjson.dumps(block.ravel(), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
    between = [f",{key}:" for key in keys[1:]] + ["},{" + keys[0] + ":"]
    pieces = [""] * (2 * rows * width - 1)
    pieces[0::2] = values.decode().split(",")
    pieces[1::2] = (between * rows)[:-1]
    return "[{" + keys[0] + ":" + "".join(pieces) + "}]"


def columns_json(columns: Mapping[str, np.ndarray]) -> str | None:
    """``[{"a": a[0], "b": b[0]}, ...]`` from equal-length columns (a classifier's
    answer), the same JSON ``dumps`` writes for those rows; None when a column holds
    something other than numbers, booleans or hashable values ``dumps`` can write.

    Each column is written once, as a whole, and its values interleaved with the keys
    by list slicing, as ``records_json`` does for floats."""
    texts: list[list[str]] = []
    for column in columns.values():
        found = _value_texts(column)
        if found is None:
            return None
        texts.append(found)
    if not texts:
        return None
    keys = [orjson.dumps(name).decode() for name in columns]
    rows, width = len(texts[0]), len(keys)
    pieces = [""] * (2 * rows * width)
    pieces[0 :: 2 * width] = ["{" + keys[0] + ":"] + ["},{" + keys[0] + ":"] * (rows - 1)
    for j, values in enumerate(texts):
        if j:
            pieces[2 * j :: 2 * width] = ["," + keys[j] + ":"] * rows
        pieces[2 * j + 1 :: 2 * width] = values
    return "[" + "".join(pieces) + "}]"


def _value_texts(column: np.ndarray) -> list[str] | None:
    """The JSON text of each value of ``column``, as ``dumps`` writes it in a row."""
    kind = column.dtype.kind
    if kind in "iubf":
        if kind == "f":  # as tolist() gives them: float32 values widened, not re-rounded
            column = column.astype(np.float64, copy=False)
        whole = orjson.dumps(np.ascontiguousarray(column), option=orjson.OPT_SERIALIZE_NUMPY)
        return whole[1:-1].decode().split(",") if len(column) else []
    if kind not in "OU":
        return None
    values = column.tolist()
    try:
        spelled = {value: dumps(value).decode() for value in set(values)}
    except TypeError:  # unhashable values (lists, dicts): the caller writes rows
        return None
    return [spelled[value] for value in values]
