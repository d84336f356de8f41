"""Reading a report's CSV or Parquet inputs: only the needed columns, clear errors.

Parquet is read column-selectively from its own schema; CSV through Arrow's
multi-threaded reader with ``include_columns``. Anything unreadable is ``InvalidInput``
with one line naming the file, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from modelsteward.errors import InvalidInput

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"{path}: expected a .csv or .parquet file")
    return FORMATS[suffix]


def column_names(path: str | Path) -> list[str]:
    """The file's columns, from the Parquet footer or the CSV header."""
    location = _existing(path)
    try:
        if file_format(location) == "parquet":
            return list(pq.read_schema(location).names)
        with pacsv.open_csv(location) as reader:
            return list(reader.schema.names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path}: {_first_line(exc)}") from None


def read_table(path: str | Path, columns: Sequence[str] | None = None) -> pa.Table:
    """The named columns that the file has (all when ``columns`` is None)."""
    location = _existing(path)
    wanted = None
    if columns is not None:
        present = set(column_names(location))
        wanted = [c for c in columns if c in present]
    try:
        if file_format(location) == "parquet":
            return pq.read_table(location, columns=wanted)
        options = pacsv.ConvertOptions(include_columns=wanted) if wanted is not None else None
        return pacsv.read_csv(location, convert_options=options)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path}: {_first_line(exc)}") from None


def _existing(path: str | Path) -> Path:
    location = Path(path)
    file_format(location)
    if not location.is_file():
        raise InvalidInput(f"{path}: no such file")
    return location


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class ParquetColumns:
    """A Parquet file read one column at a time (and in row batches for whole rows).

    The drift pass needs one column of each side at a time, so peak memory is a couple of
    columns rather than both files; it quacks like an Arrow table for ``columns``.
    """

    def __init__(self, path: str | Path, columns: Sequence[str] | None = None) -> None:
        location = _existing(path)
        if file_format(location) != "parquet":
            raise InvalidInput(f"{path}: column-wise reading needs a Parquet file")
        self.path = str(path)
        try:
            # without pre-buffering: it would keep every row group read so far in memory
            self._file = pq.ParquetFile(location, pre_buffer=False)
            schema = self._file.schema_arrow
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read {path}: {_first_line(exc)}") from None
        names = schema.names if columns is None else [c for c in columns if c in schema.names]
        self.schema = pa.schema([schema.field(n) for n in names])
        self.num_rows = int(self._file.metadata.num_rows)

    def column(self, name: str) -> pa.ChunkedArray:
        try:
            return self._file.read(columns=[name]).column(0)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read {self.path}: {_first_line(exc)}") from None

    def iter_batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._file.iter_batches(batch_size=rows, columns=self.schema.names)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read {self.path}: {_first_line(exc)}") from None


def open_data(path: str | Path, columns: Sequence[str] | None = None) -> ParquetColumns | pa.Table:
    """Parquet column by column; CSV read whole (only the named columns)."""
    if file_format(path) == "parquet":
        return ParquetColumns(path, columns)
    return read_table(path, columns)
