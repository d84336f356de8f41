"""The prediction log: every served request as one Parquet row, written off the request path.

``record`` only appends to an in-memory buffer; a daemon thread writes the buffer every
``flush_interval_s`` (sooner once ``max_buffer`` records wait) as Parquet files under
``deployment=<name>/hour=<YYYY-MM-DDTHH>/part-<uuid>.parquet``; compaction later merges
a closed hour into one compressed file (``serving/compaction.py``), so while compaction
is on the server writes its part files uncompressed (``compression``), sparing the
serving process most of the write's CPU. The durability policy, what a crash can lose,
is described in docs/serving-log.md.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
from fsspec.implementations.local import LocalFileSystem

from modelsteward.config import PART_CODECS
from modelsteward.errors import InvalidInput, Unavailable
from modelsteward.names import check_name
from modelsteward.serving.logrows import Rows, encode, text_column
from modelsteward.serving.partfiles import part_files, write_parquet_atomically

ROUTES = frozenset({"champion", "challenger", "shadow", "direct", "batch"})
BACKLOG_FACTOR = 4  # past max_buffer * this, record() flushes synchronously (backpressure)
READ_ATTEMPTS = 3
TIMESTAMP = pa.timestamp("us", tz="UTC")
FILE_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("at", TIMESTAMP),
        ("model", pa.string()),
        ("version", pa.int64()),
        ("route", pa.string()),
        ("inputs", pa.string()),
        ("outputs", pa.string()),
        ("n_rows", pa.int64()),
        ("latency_ms", pa.float64()),
        ("status", pa.int32()),
        ("key", pa.string()),
        ("error", pa.string()),
    ]
)
READ_SCHEMA = FILE_SCHEMA.insert(2, pa.field("deployment", pa.string()))
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionRecord:
    """One served request; ``inputs`` and ``outputs`` must not be mutated once recorded."""

    request_id: str
    at: datetime
    deployment: str
    model: str
    version: int
    route: str
    inputs: list[dict[str, Any]] | Rows
    outputs: list[Any] | Rows
    latency_ms: float
    status: int
    key: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        check_name(self.deployment, what="deployment name")
        texts_ok = isinstance(self.request_id, str) and isinstance(self.model, str)
        ints_ok = type(self.version) is int and type(self.status) is int
        lists_ok = isinstance(self.inputs, list | Rows) and isinstance(self.outputs, list | Rows)
        optional_ok = all(v is None or isinstance(v, str) for v in (self.key, self.error))
        number_ok = isinstance(self.latency_ms, int | float)
        if not (texts_ok and ints_ok and lists_ok and optional_ok and number_ok):
            raise InvalidInput("a prediction record has a field of the wrong type")
        if self.route not in ROUTES:
            raise InvalidInput(f"route must be one of {', '.join(sorted(ROUTES))}")
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise InvalidInput("prediction time 'at' must carry a time zone (UTC)")


def hour_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def aware(value: datetime | None, what: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"'{what}' must carry a time zone")
    return value


def duckdb_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


class PredictionLog:
    """Buffered, batched writer and reader of prediction records on a folder or fsspec URL."""

    def __init__(
        self,
        root: str,
        *,
        flush_interval_s: float = 1.0,
        max_buffer: int = 10_000,
        compression: str = "snappy",
    ):
        if flush_interval_s <= 0 or max_buffer < 1:
            raise InvalidInput("flush_interval_s must be positive and max_buffer at least 1")
        if compression not in PART_CODECS:
            raise InvalidInput(f"compression must be one of {', '.join(PART_CODECS)}")
        self.compression = compression
        self.url = root.rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(self.url)
        self.root = str(path).rstrip("/")
        self.flush_interval_s, self.max_buffer = flush_interval_s, max_buffer
        self._buffer: list[PredictionRecord] = []
        self._lock = threading.Lock()  # guards the buffer; held for microseconds only
        self._write_lock = threading.Lock()  # one writer at a time
        self._wake, self._stop = threading.Event(), threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="steward-predlog", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(self, rec: PredictionRecord) -> None:
        """Buffer one record; writes synchronously only when the writer is far behind or closed."""
        with self._lock:
            self._buffer.append(rec)
            size, closed = len(self._buffer), self._closed
        if closed or size >= self.max_buffer * BACKLOG_FACTOR:
            try:
                self.flush()
            except Exception as exc:
                raise Unavailable("the prediction log cannot write to its storage") from exc
        elif size >= self.max_buffer:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def flush(self) -> int:
        """Write every buffered record now; returns how many were written."""
        with self._write_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if batch:
                self._write(batch)
            return len(batch)

    def close(self) -> None:
        """Stop the writer thread and flush what is left; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join()
        atexit.unregister(self.close)
        self.flush()

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                _log.exception("prediction log flush failed; the records stay buffered")
                self._stop.wait(self.flush_interval_s)

    def _write(self, batch: list[PredictionRecord]) -> None:
        groups: dict[tuple[str, str], list[PredictionRecord]] = defaultdict(list)
        for rec in batch:
            groups[(rec.deployment, hour_of(rec.at))].append(rec)
        done = 0
        items = list(groups.items())
        try:
            for (deployment, hour), records in items:
                directory = f"{self.root}/deployment={deployment}/hour={hour}"
                table = _to_table(records)
                write_parquet_atomically(self.fs, directory, table, compression=self.compression)
                done += 1
        except BaseException:
            unwritten = [rec for _, records in items[done:] for rec in records]
            with self._lock:
                self._buffer[:0] = unwritten
            raise

    def files(
        self, deployment: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[str]:
        """Part files of one deployment, pruned to the hours that overlap [since, until)."""
        check_name(deployment, what="deployment name")
        low = hour_of(since) if since is not None else None
        high = hour_of(until) if until is not None else None
        base = f"{self.root}/deployment={deployment}"
        if not self.fs.isdir(base):
            return []
        found: list[str] = []
        for entry in sorted(str(p) for p in self.fs.ls(base, detail=False)):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            hour = name.removeprefix("hour=")
            if hour == name or (low and hour < low) or (high and hour > high):
                continue
            found += part_files(self.fs, entry.rstrip("/"))
        return found

    def read(
        self, deployment: str, since: datetime | None = None, until: datetime | None = None
    ) -> pa.Table:
        """Flushed records of one deployment with ``since <= at < until``, oldest first."""
        since, until = aware(since, "since"), aware(until, "until")
        for attempt in range(READ_ATTEMPTS):
            files = self.files(deployment, since, until)
            try:
                table = read_parts(self.fs, files, FILE_SCHEMA, since, until)
                break
            except (FileNotFoundError, duckdb.IOException):
                # compaction removed a replaced file after the listing: list again
                if attempt == READ_ATTEMPTS - 1 or all(self.fs.exists(f) for f in files):
                    raise
        table = table.add_column(2, "deployment", pa.array([deployment] * len(table), pa.string()))
        return table.sort_by([("at", "ascending"), ("request_id", "ascending")])


def read_parts(
    fs: Any,
    files: list[str],
    schema: pa.Schema,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """Rows of ``files`` with ``since <= at < until``: DuckDB on local disk, Arrow elsewhere."""
    if not files:
        return schema.empty_table()
    if isinstance(fs, LocalFileSystem):
        where = ["TRUE"]
        params: dict[str, object] = {"files": files}
        if since is not None:
            where.append('"at" >= $since')
            params["since"] = since
        if until is not None:
            where.append('"at" < $until')
            params["until"] = until
        columns = ", ".join(f'"{name}"' for name in schema.names)
        sql = (
            f"SELECT {columns} FROM read_parquet($files, hive_partitioning = true, "
            f"hive_types_autocast = false, union_by_name = true) WHERE {' AND '.join(where)}"
        )
        with duckdb_connection() as con:
            return con.sql(sql, params=params).to_arrow_table().cast(schema)
    condition = ds.scalar(True)
    if since is not None:
        condition &= ds.field("at") >= pa.scalar(since, TIMESTAMP)
    if until is not None:
        condition &= ds.field("at") < pa.scalar(until, TIMESTAMP)
    dataset = ds.dataset(files, schema=schema, format="parquet", filesystem=fs)
    return dataset.to_table(filter=condition)


def _to_table(records: list[PredictionRecord]) -> pa.Table:
    inputs, n_rows = encode([r.inputs for r in records])
    outputs, _ = encode([r.outputs for r in records])
    columns: dict[str, Any] = {
        "request_id": [r.request_id for r in records],
        "at": [r.at for r in records],
        "model": [r.model for r in records],
        "version": [r.version for r in records],
        "route": [r.route for r in records],
        "inputs": text_column(inputs),
        "outputs": text_column(outputs),
        "n_rows": n_rows,
        "latency_ms": [r.latency_ms for r in records],
        "status": [r.status for r in records],
        "key": [r.key for r in records],
        "error": [r.error for r in records],
    }
    return pa.table(columns, schema=FILE_SCHEMA)
