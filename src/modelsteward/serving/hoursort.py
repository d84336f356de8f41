"""The rows of an hour's part files ordered by ``at`` (then request id), in bounded memory.

A log row carries its request's inputs and outputs as JSON text: a 1 000-row request
makes one row of hundreds of kilobytes, and an hour of such requests gigabytes of text.
DuckDB cannot spill a sort of rows that wide (each must be pinned in memory whole), so
the hour is never sorted at once. First only each row's ``at`` and text length are
read; they cut the hour into time slices of at most ``SLICE_BYTES`` of text. Then each
slice is read (row-group statistics skip the files outside it), sorted, and handed on
in Arrow batches of about ``BATCH_BYTES``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from fsspec.implementations.local import LocalFileSystem

from modelsteward.serving.predlog import duckdb_connection

SLICE_BYTES = 256 << 20
BATCH_BYTES = 16 << 20
MAX_BATCH_ROWS = 65_536
SORT_MEMORY = "1GB"  # the key sort of a very large hour spills to a temporary folder
ROW_OVERHEAD_BYTES = 64  # the fixed-width columns of a row, roughly
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Slice:
    """Rows with ``start <= at < stop`` (no ``stop``: to the end), and their text size."""

    start: datetime
    stop: datetime | None
    rows: int
    size: int

    def batch_rows(self) -> int:
        per_row = max(self.size // max(self.rows, 1), 1)
        return int(min(max(BATCH_BYTES // per_row, 1), MAX_BATCH_ROWS))


@contextmanager
def sorted_batches(
    fs: Any, files: list[str], schema: pa.Schema
) -> Iterator[Iterator[pa.RecordBatch]]:
    """The rows of ``files`` (read as ``schema``) by ``at`` then ``request_id``."""
    with (
        tempfile.TemporaryDirectory(prefix="steward-compaction-") as spill,
        duckdb_connection() as con,
    ):
        con.execute(f"SET memory_limit = '{SORT_MEMORY}'")
        con.execute("SET threads = 1")  # leaves the other cores to serving
        con.execute("SET temp_directory = '" + spill.replace("'", "''") + "'")
        source, params = _source(con, fs, files, schema)
        yield _batches(con, source, params, schema)


def _source(
    con: duckdb.DuckDBPyConnection, fs: Any, files: list[str], schema: pa.Schema
) -> tuple[str, dict[str, object]]:
    if isinstance(fs, LocalFileSystem):
        sql = "read_parquet($files, union_by_name = true, hive_partitioning = false)"
        return sql, {"files": files}
    con.register("sources", ds.dataset(files, schema=schema, filesystem=fs))
    return "sources", {}


def _batches(
    con: duckdb.DuckDBPyConnection, source: str, params: dict[str, object], schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    columns = ", ".join(_quoted(n) for n in schema.names)
    for piece in slices(con, source, params, schema):
        bounds = {"start": piece.start}
        where = '"at" >= $start'
        if piece.stop is not None:
            bounds["stop"] = piece.stop
            where += ' AND "at" < $stop'
        sql = f'SELECT {columns} FROM {source} WHERE {where} ORDER BY "at", request_id'
        yield from con.sql(sql, params=params | bounds).to_arrow_reader(piece.batch_rows())


def slices(
    con: duckdb.DuckDBPyConnection, source: str, params: dict[str, object], schema: pa.Schema
) -> list[Slice]:
    """Consecutive time slices of at most ``SLICE_BYTES`` of text each (one instant's
    rows are never split, so a slice may exceed it when a single instant does)."""
    texts = [
        f"coalesce(strlen({_quoted(f.name)}), 0)" for f in schema if pa.types.is_string(f.type)
    ]
    size = " + ".join([str(ROW_OVERHEAD_BYTES), *texts])
    found = con.sql(
        f'SELECT epoch_us("at") AS at_us, {size} AS size FROM {source} ORDER BY 1', params=params
    ).fetchnumpy()
    at, sizes = np.asarray(found["at_us"], dtype=np.int64), np.asarray(found["size"], np.int64)
    total = np.cumsum(sizes)
    cut: list[Slice] = []
    first, rows = 0, len(at)
    while first < rows:
        before = int(total[first - 1]) if first else 0
        end = max(int(np.searchsorted(total, before + SLICE_BYTES, side="right")), first + 1)
        if end < rows:  # keep one instant's rows together
            end = int(np.searchsorted(at, at[end - 1], side="right"))
        stop = _time(int(at[end])) if end < rows else None
        cut.append(Slice(_time(int(at[first])), stop, end - first, int(total[end - 1]) - before))
        first = end
    return cut


def _time(epoch_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=epoch_us)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
