"""Writing outputs incrementally under a temporary name, renamed into place when complete.

Also the parts folder of a split Parquet file: created, merged in order, and discarded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from modelsteward.errors import InvalidInput
from modelsteward.serving.batch.files import open_file, shown
from modelsteward.serving.batch.spec import BatchPlan, Format


class OutputFile:
    """Appends tables under a hidden temporary name; renamed into place only when complete."""

    def __init__(self, url: str, fmt: Format, job_id: str, make_parent: bool = True) -> None:
        self.fs, path = fsspec.core.url_to_fs(url)
        self.make_parent = make_parent
        self.path = str(path)
        self.fmt = fmt
        parent, _, base = self.path.rpartition("/")
        self.parent = parent or "."
        self.tmp = f"{self.parent}/.{base}.{job_id}.tmp"
        self._handle: Any = None
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self.schema: pa.Schema | None = None

    def write(self, table: pa.Table, where: str = "") -> None:
        if self._writer is None:
            if self.make_parent:
                self.fs.makedirs(self.parent, exist_ok=True)
            self._handle = open_file(self.fs, self.tmp, "wb")
            self.schema = table.schema
            self._writer = (
                pq.ParquetWriter(self._handle, table.schema)
                if self.fmt == "parquet"
                else pacsv.CSVWriter(self._handle, table.schema)
            )
        elif not table.schema.equals(self.schema):
            try:
                table = table.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                raise InvalidInput(
                    f"{where}: the output columns differ in type from the first chunk's"
                ) from None
        self._writer.write_table(table)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._handle.close()
            self._writer = None

    def commit(self) -> None:
        self._close()
        if isinstance(self.fs, LocalFileSystem):
            os.replace(self.tmp, self.path)
            return
        if self.fs.exists(self.path):
            self.fs.rm(self.path)
        self.fs.mv(self.tmp, self.path)

    def abort(self) -> None:
        with suppress(Exception):
            self._close()
        with suppress(Exception):
            if self.fs.exists(self.tmp):
                self.fs.rm(self.tmp)


@contextmanager
def output_file(
    url: str, fmt: Format, job_id: str, make_parent: bool = True
) -> Iterator[OutputFile]:
    out = OutputFile(url, fmt, job_id, make_parent)
    try:
        yield out
    except BaseException:
        out.abort()
        raise
    out.commit()


def prepare_parts(plan: BatchPlan) -> None:
    if plan.merge_dir is not None:
        fs, path = fsspec.core.url_to_fs(plan.merge_dir)
        fs.makedirs(path, exist_ok=True)


def merge_parts(plan: BatchPlan) -> None:
    """Concatenate the parts of one split file, in order, into the output; then drop them."""
    if plan.merge_dir is None:
        return
    with output_file(plan.output, plan.output_format, plan.job_id) as out:
        for part in plan.parts:
            fs, path = fsspec.core.url_to_fs(part.target)
            with open_file(fs, path, "rb") as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=plan.chunk_rows):
                    out.write(pa.Table.from_batches([batch]), shown(part.source))
    discard_parts(plan)


def discard_parts(plan: BatchPlan) -> None:
    if plan.merge_dir is not None:
        fs, path = fsspec.core.url_to_fs(plan.merge_dir)
        with suppress(FileNotFoundError):
            fs.rm(path, recursive=True)
