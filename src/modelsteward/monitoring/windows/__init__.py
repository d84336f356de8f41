"""Read a window of a deployment's prediction log (and its labels) for a monitor run.

DuckDB scans only the hour partitions that overlap the window and only the columns a
monitor needs, expands each request's JSON rows into one row per prediction, and types
every feature from the data itself (numbers stay numbers; anything else stays text, so
a type violation is still visible to the quality checks). Every step is a streaming
query over views (nothing but the typed result is materialised), and a window larger
than ``max_rows`` keeps a deterministic hash sample of about that many rows, which
bounds memory: a 1 000 000-row window of 25 features peaks under 1 GB.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from fsspec.implementations.local import LocalFileSystem

from modelsteward.names import check_name
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.predlog import FILE_SCHEMA, duckdb_connection, hour_of, part_files

NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT', 'UHUGEINT')"
META_COLUMNS = ("request_id", "at", "version", "route", "latency_ms", "status", "key")
MAX_KEYS = 2_000
SAMPLE_SEED = 7
SAMPLE_SCALE = 1_000_000


@dataclass(frozen=True)
class PredictionWindow:
    """Aligned tables: row i of ``meta``, ``inputs``, ``outputs`` and ``labels`` belong together."""

    start: datetime | None
    end: datetime
    meta: pa.Table
    inputs: pa.Table
    outputs: pa.Table
    labels: pa.Table | None
    total_rows: int
    sampled: bool

    @property
    def rows(self) -> int:
        return self.meta.num_rows

    def filter(self, mask: pa.ChunkedArray | pa.Array) -> PredictionWindow:
        """The rows where ``mask`` is true (a segment of the window)."""
        labels = None if self.labels is None else self.labels.filter(mask)
        return replace(
            self,
            meta=self.meta.filter(mask),
            inputs=self.inputs.filter(mask),
            outputs=self.outputs.filter(mask),
            labels=labels,
        )


class LogFiles:
    """Lists a deployment's part files by hour, without starting a log writer."""

    def __init__(self, logs_url: str) -> None:
        self.url = logs_url.rstrip("/")
        self.fs, path = fsspec.core.url_to_fs(self.url)
        self.root = str(path).rstrip("/")

    @property
    def local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def hours(self, deployment: str) -> list[tuple[str, str]]:
        """(hour, folder) pairs of one deployment, oldest first."""
        base = f"{self.root}/deployment={check_name(deployment, what='deployment name')}"
        if not self.fs.isdir(base):
            return []
        found = []
        for entry in sorted(str(p).rstrip("/") for p in self.fs.ls(base, detail=False)):
            name = entry.rsplit("/", 1)[-1]
            if name.startswith("hour="):
                found.append((name.removeprefix("hour="), entry))
        return found

    def files(self, deployment: str, since: datetime | None, until: datetime) -> list[str]:
        low, high = (hour_of(since) if since else ""), hour_of(until)
        return [
            file
            for hour, folder in self.hours(deployment)
            if low <= hour <= high
            for file in part_files(self.fs, folder)
        ]

    def open(self, con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
        """Make the view ``log`` over ``files`` (empty when there are none)."""
        columns = ", ".join(f'"{n}"' for n in FILE_SCHEMA.names)
        if not files:
            con.register("log_empty", FILE_SCHEMA.empty_table())
            run_sql(con, "CREATE OR REPLACE TEMP VIEW log AS SELECT * FROM log_empty")
        elif self.local:
            run_sql(
                con,
                f"CREATE OR REPLACE TEMP VIEW log AS SELECT {columns} FROM read_parquet("
                f"{_literal_list(files)}, union_by_name = true, hive_partitioning = false)",
            )
        else:
            dataset = ds.dataset(files, schema=FILE_SCHEMA, format="parquet", filesystem=self.fs)
            con.register("log_dataset", dataset)
            run_sql(con, "CREATE OR REPLACE TEMP VIEW log AS SELECT * FROM log_dataset")


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[Any]:
    """Execute and drain, so the connection is free for the next statement."""
    return con.execute(sql, params).fetchall()


def _literal_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def route_clause(route: str | None) -> str:
    """Requests of one route, or of every route but shadow (which repeats champion inputs)."""
    if route is None:
        return "route <> 'shadow'"
    if route not in ("champion", "challenger", "shadow", "direct", "batch"):
        raise ValueError(f"unknown route {route!r}")
    return f"route = '{route}'"


def last_n_start(
    files: LogFiles,
    deployment: str,
    last: int,
    until: datetime,
    route: str | None,
    requests: bool = False,
) -> datetime | None:
    """The earliest hour that must be read to find the newest ``last`` predictions (or
    requests, with ``requests=True``).

    Hours are counted newest first in batches that double in size (1, 2, 4... hours), so
    a year of sparse hours costs a dozen small queries, not thousands.
    """
    hours = [h for h in reversed(files.hours(deployment)) if h[0] <= hour_of(until)]
    counted = "count(*)" if requests else "coalesce(sum(n_rows) FILTER (WHERE status < 400), 0)"
    seen, first, size = 0, 0, 1
    with duckdb_connection() as con:
        while first < len(hours):
            batch = hours[first : first + size]
            files.open(con, [f for _, folder in batch for f in part_files(files.fs, folder)])
            (count,) = run_sql(
                con,
                f'SELECT {counted} FROM log WHERE "at" < $until AND {route_clause(route)}',
                {"until": until},
            )[0]
            seen += int(count)
            if seen >= last:
                return datetime.strptime(batch[-1][0], "%Y-%m-%dT%H").replace(tzinfo=UTC)
            first, size = first + size, size * 2
    return None


def window_bounds(
    files: LogFiles,
    deployment: str,
    *,
    hours: float | None,
    last: int | None,
    now: datetime,
    route: str | None,
    requests: bool = False,
) -> tuple[datetime | None, datetime]:
    """[start, end) of the files to read: a time window, or back far enough for ``last``."""
    if hours is not None:
        return now - timedelta(hours=hours), now
    assert last is not None
    return last_n_start(files, deployment, last, now, route, requests), now


def read_window(
    logs_url: str,
    deployment: str,
    *,
    now: datetime,
    hours: float | None = None,
    last: int | None = None,
    route: str | None = None,
    labels: bool = False,
    max_rows: int = 1_000_000,
) -> PredictionWindow:
    """One row per logged prediction in the window, with inputs, outputs and labels split."""
    if (hours is None) == (last is None):
        raise ValueError("give hours or last")
    files = LogFiles(logs_url)
    start, end = window_bounds(files, deployment, hours=hours, last=last, now=now, route=route)
    with duckdb_connection() as con:
        files.open(con, files.files(deployment, start, end))
        where = [f'"at" < {_when(end)}', route_clause(route), "status < 400", "n_rows > 0"]
        if hours is not None and start is not None:
            where.append(f'"at" >= {_when(start)}')
        run_sql(con, f"CREATE TEMP VIEW requests AS SELECT * FROM log WHERE {' AND '.join(where)}")
        if last is not None:
            where.append(_newest(con, last))
        run_sql(con, f"CREATE TEMP VIEW chosen AS SELECT * FROM log WHERE {' AND '.join(where)}")
        (total,) = run_sql(con, "SELECT coalesce(sum(n_rows), 0) FROM chosen")[0]
        sampled = total > max_rows
        keep = ""
        if sampled:  # a deterministic, streaming sample of about max_rows rows
            share = int(SAMPLE_SCALE * max_rows / total)
            keep = f"WHERE hash(request_id, i, {SAMPLE_SEED}) % {SAMPLE_SCALE} < {share}"
        run_sql(
            con,
            f"""CREATE TEMP VIEW rows AS SELECT * FROM (
                SELECT request_id, "at", version, route, latency_ms, status, "key",
                       unnest(ins) AS input, unnest(outs) AS output,
                       unnest(generate_series(1, len(ins))) AS i
                FROM (SELECT *, CAST(inputs AS JSON[]) AS ins, CAST(outputs AS JSON[]) AS outs
                      FROM chosen)) {keep}""",
        )
        if labels:
            _join_labels(con, logs_url, deployment)
        table = _typed(con, labels)
    first = start
    if last is not None:
        first = pc.min(table.column("at")).as_py() if table.num_rows else None
    inputs = _part(table, "i:")
    outputs = _part(table, "o:")
    label_table = _part(table, "l:") if labels else None
    meta = table.select(list(META_COLUMNS))
    return PredictionWindow(
        start=first,
        end=end,
        meta=meta,
        inputs=inputs,
        outputs=outputs,
        labels=label_table,
        total_rows=int(total),
        sampled=sampled,
    )


def _when(moment: datetime) -> str:
    """A time as a SQL literal (views take no parameters); it comes from a datetime."""
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).isoformat()}'"


def _newest(con: duckdb.DuckDBPyConnection, last: int) -> str:
    """A filter keeping the newest requests that hold ``last`` predictions (whole
    requests: a request's rows share one time), counted without parsing any JSON."""
    found = run_sql(
        con,
        f"""SELECT epoch_us("at") FROM (
            SELECT "at", sum(n_rows) OVER (
                ORDER BY "at" DESC, request_id DESC ROWS UNBOUNDED PRECEDING) AS seen
            FROM requests)
        WHERE seen >= {int(last)} ORDER BY seen LIMIT 1""",
    )
    if not found:
        return "TRUE"
    cutoff = datetime.fromtimestamp(found[0][0] / 1e6, tz=UTC)
    return f'"at" >= {_when(cutoff)}'


def _part(table: pa.Table, prefix: str) -> pa.Table:
    names = [n for n in table.column_names if n.startswith(prefix)]
    part = table.select(names)
    return part.rename_columns([n.removeprefix(prefix) for n in names])


def _keys(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    """Object keys seen in a JSON column, in order of first appearance.

    DuckDB's struct fields ignore case, so of keys differing only in case the first wins.
    """
    rows = con.execute(
        f"""SELECT k FROM (
                SELECT "at", unnest(ks) AS k, unnest(generate_series(1, len(ks))) AS pos
                FROM (SELECT "at", json_keys({column}) AS ks FROM rows
                      WHERE json_type({column}) = 'OBJECT'))
            GROUP BY k ORDER BY min("at"), min(pos), k LIMIT {MAX_KEYS}"""
    ).fetchall()
    seen: set[str] = set()
    keys = []
    for (key,) in rows:
        if str(key).lower() not in seen:
            seen.add(str(key).lower())
            keys.append(str(key))
    return keys


def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parsed(column: str, keys: list[str]) -> str:
    """Each JSON object parsed once into a struct of its (still JSON) values."""
    structure = _sql(json.dumps({key: "JSON" for key in keys}))
    return f"from_json({column}, {structure})"  # anything but an object gives NULL fields


def _typed_values(con: duckdb.DuckDBPyConnection, values: list[str]) -> list[str]:
    """SELECT expressions over JSON values: DOUBLE when every present value is a number."""
    if not values:
        return []
    checks = ", ".join(
        f"count(*) FILTER (WHERE json_type({v}) NOT IN {NUMBER_TYPES} AND json_type({v}) <> 'NULL')"
        for v in values
    )
    counts = con.execute(f"SELECT {checks} FROM parsed").fetchall()[0]
    return [
        f"TRY_CAST({v} AS DOUBLE)" if non_numbers == 0 else f"json_extract_string({v}, '$')"
        for v, non_numbers in zip(values, counts, strict=True)
    ]


def _typed(con: duckdb.DuckDBPyConnection, labels: bool) -> pa.Table:
    input_keys, output_keys = _keys(con, "input"), _keys(con, "output")
    structs = [f"{_parsed('input', input_keys)} AS fi" if input_keys else "NULL AS fi"]
    structs.append(f"{_parsed('output', output_keys)} AS fo" if output_keys else "output AS fo")
    run_sql(
        con,
        f"CREATE TEMP VIEW parsed AS SELECT * EXCLUDE (input, output), {', '.join(structs)} "
        "FROM rows",
    )
    values = [f"struct_extract(fi, {_sql(k)})" for k in input_keys]
    names = list(META_COLUMNS) + [f"i:{k}" for k in input_keys]
    if output_keys:
        values += [f"struct_extract(fo, {_sql(k)})" for k in output_keys]
        names += [f"o:{k}" for k in output_keys]
    else:
        values.append("fo")
        names.append("o:prediction")
    selects = [f'parsed."{c}"' for c in META_COLUMNS] + _typed_values(con, values)
    join = ""
    if labels:
        selects += ["lab.label_text", "lab.label_number"]
        names += ["l:label", "l:label_number"]
        join = "LEFT JOIN lab ON lab.rid = parsed.request_id"
    order = 'parsed."at", parsed.request_id, parsed.i'
    table = con.sql(f"SELECT {', '.join(selects)} FROM parsed {join} ORDER BY {order}")
    return table.to_arrow_table().rename_columns(names)


def _join_labels(con: duckdb.DuckDBPyConnection, logs_url: str, deployment: str) -> None:
    """The latest label of each request in the window, matched by request id or by key."""
    con.register("labels", LabelStore(logs_url).read(deployment))
    run_sql(
        con,
        """CREATE TEMP TABLE lab AS
        WITH req AS (SELECT DISTINCT request_id, "key" FROM chosen),
        cand AS (
            SELECT req.request_id AS rid, l.label, l."at", l.posted_at, l.seq
            FROM req JOIN labels AS l ON l.request_id = req.request_id
            UNION ALL
            SELECT req.request_id AS rid, l.label, l."at", l.posted_at, l.seq
            FROM req JOIN labels AS l ON l."key" = req."key"),
        latest AS (
            SELECT rid, label FROM cand QUALIFY row_number() OVER (
                PARTITION BY rid ORDER BY "at" DESC, posted_at DESC, seq DESC) = 1)
        SELECT rid, json_extract_string(CAST(label AS JSON), '$') AS label_text,
               TRY_CAST(json_extract_string(CAST(label AS JSON), '$') AS DOUBLE) AS label_number
        FROM latest""",
    )
