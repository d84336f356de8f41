"""Reading a part lazily in chunks of a fixed row count, from CSV or Parquet.

CSV errors are reported by row and column without quoting the data; progress for CSV
is counted in bytes, since its row count is not known in advance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelsteward.errors import InvalidInput
from modelsteward.serving.batch.files import open_file
from modelsteward.serving.batch.spec import CSV_BLOCK_BYTES, Part
from modelsteward.serving.validation import schema_columns, tensor_column


@dataclass(frozen=True)
class Chunk:
    offset: int  # rows of the file before this chunk, counted from 0 without a header
    table: pa.Table
    units: int  # progress units done once this chunk is scored


def _rechunk(batches: Iterator[pa.RecordBatch], schema: pa.Schema, rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last may be shorter) from batches of any size."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema)


def _csv_failure(name: str, names: list[str], after: int, exc: pa.ArrowInvalid) -> InvalidInput:
    """Arrow's message quotes the offending text; keep only the column and the shape."""
    text = str(exc)
    column = re.search(r"CSV column #(\d+)", text)
    if column and int(column.group(1)) < len(names):
        return InvalidInput(
            f"{name}, after row {after}: column {names[int(column.group(1))]!r} holds a value "
            f"unlike its first rows (CSV types are inferred from the first "
            f"{CSV_BLOCK_BYTES >> 20} MiB)"
        )
    fields = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if fields:
        return InvalidInput(
            f"{name}, after row {after}: a line has {fields.group(2)} fields, "
            f"the header {fields.group(1)}"
        )
    return InvalidInput(f"{name}, after row {after}: not readable as CSV")


class _CsvProgress:
    """Bytes read as the chunks see them: Arrow reads blocks ahead, so its position runs
    ahead of the scoring; blocks are of equal size, so rows scored x bytes per row is not."""

    def __init__(self, size: int) -> None:
        self.size, self.rows, self.blocks = size, 0, 0

    def bytes_at(self, rows: int) -> int:
        read = min(self.blocks * CSV_BLOCK_BYTES, self.size)
        return min(self.size, rows * read // self.rows) if self.rows else 0


def _csv_batches(
    handle: Any, name: str, schema: dict[str, Any] | None, progress: _CsvProgress
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    typed = tensor_column(schema) is None
    text_columns = {c["name"]: pa.string() for c in schema_columns(schema)} if typed else {}
    try:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(
                column_types=text_columns, strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _csv_failure(name, [], 0, exc) from None

    def batches() -> Iterator[pa.RecordBatch]:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise _csv_failure(name, reader.schema.names, progress.rows, exc) from None
            progress.rows, progress.blocks = progress.rows + batch.num_rows, progress.blocks + 1
            yield batch

    return reader.schema, batches()


@contextmanager
def read_chunks(
    part: Part, chunk_rows: int, schema: dict[str, Any] | None
) -> Iterator[tuple[pa.Schema, Iterator[Chunk]]]:
    """The part's columns and its chunks, read lazily from its file."""
    fs, path = fsspec.core.url_to_fs(part.source)
    csv = _CsvProgress(part.units)
    with open_file(fs, path, "rb") as handle:
        if part.format == "parquet":
            parquet = pq.ParquetFile(handle)
            groups = list(part.row_groups) if part.row_groups is not None else None
            columns = parquet.schema_arrow
            batches = parquet.iter_batches(batch_size=chunk_rows, row_groups=groups)
        else:
            columns, batches = _csv_batches(handle, path, schema, csv)

        def chunks() -> Iterator[Chunk]:
            offset = part.first_row
            for table in _rechunk(batches, columns, chunk_rows):
                done = offset + table.num_rows - part.first_row
                yield Chunk(offset, table, done if part.format == "parquet" else csv.bytes_at(done))
                offset += table.num_rows

        yield columns, chunks()
