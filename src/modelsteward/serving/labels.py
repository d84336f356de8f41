"""Ground-truth labels, posted after the prediction and joined to it for performance metrics.

A label names its prediction by ``request_id`` or by a business ``key`` and carries one
JSON scalar. Labels are appended as Parquet under ``labels/deployment=<name>/`` of the
log root and never rewritten: when several labels match a prediction, the latest wins.
A label that matches no logged prediction is kept (its prediction may be logged later),
and ``matched`` tells the caller how many of a batch found theirs.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from modelsteward.errors import InvalidInput, PayloadTooLarge
from modelsteward.names import check_name
from modelsteward.serving.predlog import (
    FILE_SCHEMA,
    READ_SCHEMA,
    TIMESTAMP,
    PredictionLog,
    duckdb_connection,
    part_files,
    read_parts,
    write_parquet_atomically,
)

MAX_ITEMS = 100_000
MAX_FILE_ROWS = 1_000_000
MAX_ID_CHARS = 256
MAX_LABEL_CHARS = 10_000
FIELDS = ("request_id", "key", "label", "at")
LABEL_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("key", pa.string()),
        ("label", pa.string()),  # the label as JSON text: 1, 0.5, true, "cat"
        ("at", TIMESTAMP),
        ("posted_at", TIMESTAMP),
        ("seq", pa.int64()),
    ]
)
JOINED_SCHEMA = READ_SCHEMA.append(pa.field("label", pa.string())).append(
    pa.field("label_at", TIMESTAMP)
)

_JOIN_SQL = """
WITH p AS (SELECT *, row_number() OVER () AS "_row" FROM predictions),
candidates AS (
    SELECT p."_row", l."label", l."at", l."posted_at", l."seq"
    FROM p JOIN labels AS l ON l."request_id" = p."request_id"
    UNION ALL
    SELECT p."_row", l."label", l."at", l."posted_at", l."seq"
    FROM p JOIN labels AS l ON l."key" = p."key"
),
latest AS (
    SELECT * FROM candidates QUALIFY row_number() OVER (
        PARTITION BY "_row" ORDER BY "at" DESC, "posted_at" DESC, "seq" DESC) = 1
)
SELECT {columns}, latest."label" AS "label", latest."at" AS "label_at"
FROM p LEFT JOIN latest USING ("_row")
ORDER BY p."at", p."request_id"
"""


@dataclass(frozen=True)
class Posted:
    """Labels stored by one call: how many, and their request ids and keys."""

    accepted: int
    request_ids: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    rows: tuple[tuple[str | None, str | None], ...] = ()


class LabelStore:
    """Append-only label files next to the prediction log (same root URL)."""

    def __init__(self, root: str) -> None:
        self.url = root.rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(self.url)
        self.root = f"{str(path).rstrip('/')}/labels"

    def _directory(self, deployment: str) -> str:
        return f"{self.root}/deployment={check_name(deployment, what='deployment name')}"

    def post(self, deployment: str, labels: list[dict[str, Any]]) -> Posted:
        """Validate every item, then store them all in one file."""
        directory = self._directory(deployment)
        if not isinstance(labels, list):
            raise InvalidInput("labels must be a list of objects")
        if len(labels) > MAX_ITEMS:
            raise PayloadTooLarge(f"at most {MAX_ITEMS} labels per call; send them in batches")
        return self._store(directory, labels, lambda i: f"labels[{i}]")

    def post_file(
        self,
        deployment: str,
        path_or_bytes: str | Path | bytes,
        format: Literal["csv", "parquet"],
    ) -> Posted:
        """Bulk upload: columns ``request_id`` or ``key``, ``label`` and optionally ``at``."""
        directory = self._directory(deployment)
        if format not in ("csv", "parquet"):
            raise InvalidInput("format must be 'csv' or 'parquet'")
        source: Any = (
            io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
        )
        try:
            table = _read_csv(source) if format == "csv" else pq.read_table(source)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInput(f"the {format} file could not be read") from exc
        if not set(table.column_names) <= set(FIELDS) or "label" not in table.column_names:
            raise InvalidInput("columns must be 'label' plus 'request_id' or 'key' (and 'at')")
        if table.num_rows > MAX_FILE_ROWS:
            raise PayloadTooLarge(f"at most {MAX_FILE_ROWS} rows per file")
        for name in ("request_id", "key"):
            if name in table.column_names and pa.types.is_integer(table.schema.field(name).type):
                index = table.column_names.index(name)
                table = table.set_column(index, name, table.column(name).cast(pa.string()))
        return self._store(directory, table.to_pylist(), lambda i: f"row {i + 1}")

    def _store(self, directory: str, items: list[Any], where: Callable[[int], str]) -> Posted:
        now = datetime.now(UTC)
        rows = [_checked(item, where(i), now) for i, item in enumerate(items)]
        if not rows:
            return Posted(0)
        columns = {name: [row[k] for row in rows] for k, name in enumerate(FIELDS)}
        table = pa.table(
            {**columns, "posted_at": [now] * len(rows), "seq": list(range(len(rows)))},
            schema=LABEL_SCHEMA,
        )
        write_parquet_atomically(self.fs, directory, table)
        named = tuple((row[0], row[1]) for row in rows)
        ids = tuple({r for r, _ in named if r is not None})
        return Posted(len(rows), ids, tuple({k for _, k in named if k is not None}), named)

    def matched(self, log: PredictionLog, deployment: str, posted: Posted) -> int:
        """How many of ``posted`` name a prediction in the flushed log (by id or key).

        Only the log's ``request_id`` and ``key`` columns are read, filtered to the batch."""
        files = log.files(deployment)
        if not posted.rows or not files:
            return 0
        ids = pa.array(posted.request_ids, pa.string())
        wanted = ds.field("request_id").isin(ids) | ds.field("key").isin(
            pa.array(posted.keys, pa.string())
        )
        dataset = ds.dataset(files, schema=FILE_SCHEMA, format="parquet", filesystem=log.fs)
        found = dataset.to_table(columns=["request_id", "key"], filter=wanted)
        logged = set(found.column("request_id").to_pylist())
        keys = set(found.column("key").to_pylist()) - {None}
        return sum(1 for r, k in posted.rows if (r is not None and r in logged) or k in keys)

    def read(self, deployment: str) -> pa.Table:
        """Every label stored for a deployment, in storage order."""
        return read_parts(self.fs, part_files(self.fs, self._directory(deployment)), LABEL_SCHEMA)

    def joined(
        self,
        log: PredictionLog,
        deployment: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> pa.Table:
        """Predictions (``since <= at < until``) left-joined with their latest label."""
        predictions = log.read(deployment, since, until)
        labels = self.read(deployment)
        columns = ", ".join(f'p."{name}"' for name in READ_SCHEMA.names)
        with duckdb_connection() as con:
            con.register("predictions", predictions)
            con.register("labels", labels)
            table = con.sql(_JOIN_SQL.format(columns=columns)).to_arrow_table()
        return table.cast(JOINED_SCHEMA)


def _read_csv(source: Any) -> pa.Table:
    as_text = {name: pa.string() for name in ("request_id", "key", "at")}
    options = pacsv.ConvertOptions(column_types=as_text, strings_can_be_null=True)
    return pacsv.read_csv(source, convert_options=options)


def _checked(item: Any, where: str, now: datetime) -> tuple[Any, ...]:
    """One label as (request_id, key, label JSON, at); the error names the item, not its data."""
    if not isinstance(item, dict):
        raise InvalidInput(f"{where}: must be an object")
    if not set(item) <= set(FIELDS):
        raise InvalidInput(f"{where}: unexpected fields; allowed are {', '.join(FIELDS)}")
    request_id, key = item.get("request_id"), item.get("key")
    if (request_id is None) == (key is None):
        raise InvalidInput(f"{where}: give exactly one of request_id or key")
    for name, ident in (("request_id", request_id), ("key", key)):
        if ident is not None and not (isinstance(ident, str) and 0 < len(ident) <= MAX_ID_CHARS):
            raise InvalidInput(f"{where}: {name} must be a string of 1-{MAX_ID_CHARS} characters")
    label = item.get("label")
    if label is None:
        raise InvalidInput(f"{where}: label is missing")
    if not isinstance(label, str | int | float) or (
        isinstance(label, float) and not math.isfinite(label)
    ):
        raise InvalidInput(f"{where}: label must be a string, a finite number or a boolean")
    text = json.dumps(label)
    if len(text) > MAX_LABEL_CHARS:
        raise InvalidInput(f"{where}: label is longer than {MAX_LABEL_CHARS} characters")
    return request_id, key, text, _time(item.get("at"), where, now)


def _time(value: Any, where: str, now: datetime) -> datetime:
    if value is None:
        return now
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{where}: at must be an ISO-8601 time") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{where}: at must be an ISO-8601 time with a time zone")
    return value
