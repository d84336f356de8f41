"""Reading a window of the prediction log one group of part files at a time.

``read_window`` types every feature from the whole window (one text value among numbers
makes the column text) and materialises the rows. To summarise a window in parts (on
Dask workers, or here in bounded memory) each part must be typed the same way: a first
pass gathers every group's facts (``facts``), merged into one ``WindowColumns``;
then each group is read as Arrow batches typed by it. Filters and the deterministic
hash sample are ``read_window``'s, so the rows are the same rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import duckdb
import pyarrow as pa

from modelsteward.monitoring.windows import (
    SAMPLE_SCALE,
    SAMPLE_SEED,
    LogFiles,
    last_n_start,
    route_clause,
    run_sql,
)
from modelsteward.serving.predlog import hour_of, part_files

FILES_PER_TASK = 256
BATCH_ROWS = 65_536
_CURSORS = threading.Lock()


@dataclass(frozen=True)
class WindowScope:
    """Which logged predictions a window holds, and its part files in groups (one per task).

    ``since`` is the first time kept (a time window's start, or the cut-off of a
    last-N window); ``share`` the hash sample's share of ``SAMPLE_SCALE`` (None: all rows).
    """

    logs_url: str
    deployment: str
    end: datetime
    route: str | None
    since: datetime | None
    start: datetime | None
    total: int
    share: int | None
    groups: tuple[tuple[str, ...], ...]

    @property
    def sampled(self) -> bool:
        return self.share is not None


@cache
def _database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _connection() -> duckdb.DuckDBPyConnection:
    """A connection of its own (temporary views included) on this process's one in-memory
    database: opening a new database costs tens of milliseconds, a cursor almost nothing."""
    with _CURSORS:
        con = _database().cursor()
    con.execute("SET TimeZone = 'UTC'")
    return con


@dataclass(frozen=True)
class WindowColumns:
    """The window's columns as ``(key, holds only numbers)``, in ``read_window``'s order.

    ``scalar_output``: no output was an object, so the outputs are one ``prediction``.
    """

    inputs: tuple[tuple[str, bool], ...]
    outputs: tuple[tuple[str, bool], ...]
    scalar_output: bool


def _when(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).isoformat()}'"


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _where(end: datetime, route: str | None) -> str:
    """The requests every window keeps (as ``read_window``): answered, with rows, by route."""
    return " AND ".join([f'"at" < {_when(end)}', route_clause(route), "status < 400", "n_rows > 0"])


def _cutoff(con: duckdb.DuckDBPyConnection, where: str, last: int) -> datetime | None:
    """The time of the oldest request among the newest ones holding ``last`` predictions."""
    found = run_sql(
        con,
        f"""SELECT epoch_us("at") FROM (
            SELECT "at", sum(n_rows) OVER (
                ORDER BY "at" DESC, request_id DESC ROWS UNBOUNDED PRECEDING) AS seen
            FROM log WHERE {where})
        WHERE seen >= {int(last)} ORDER BY seen LIMIT 1""",
    )
    return datetime.fromtimestamp(found[0][0] / 1e6, tz=UTC) if found else None


def scope_of(
    logs_url: str,
    deployment: str,
    *,
    now: datetime,
    hours: float | None,
    last: int | None,
    route: str | None,
    max_rows: int,
    files_per_task: int = FILES_PER_TASK,
) -> WindowScope:
    """Bounds, size and part files of a window, from request metadata only (no JSON)."""
    if (hours is None) == (last is None):
        raise ValueError("give hours or last")
    files = LogFiles(logs_url)
    first = now - timedelta(hours=hours) if hours is not None else None
    if last is not None:
        first = last_n_start(files, deployment, last, now, route)
    low, high = (hour_of(first) if first else ""), hour_of(now)
    groups: list[tuple[str, ...]] = []
    for hour, folder in files.hours(deployment):
        if low <= hour <= high:
            parts = part_files(files.fs, folder)
            for i in range(0, len(parts), files_per_task):
                groups.append(tuple(parts[i : i + files_per_task]))
    where = _where(now, route)
    since = first if hours is not None else None
    with _connection() as con:
        files.open(con, [f for group in groups for f in group])
        if since is not None:
            where += f' AND "at" >= {_when(since)}'
        if last is not None:
            since = _cutoff(con, where, last)
            if since is not None:
                where += f' AND "at" >= {_when(since)}'
        (total,) = run_sql(con, f"SELECT coalesce(sum(n_rows), 0) FROM log WHERE {where}")[0]
    share = int(SAMPLE_SCALE * max_rows / total) if total > max_rows else None
    start = now - timedelta(hours=hours) if hours is not None else None
    return WindowScope(
        logs_url, deployment, now, route, since, start, int(total), share, tuple(groups)
    )


def open_rows(scope: WindowScope, files: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """A connection whose ``rows`` view is this group's predictions of the window."""
    con = _connection()
    LogFiles(scope.logs_url).open(con, list(files))
    where = _where(scope.end, scope.route)
    if scope.since is not None:
        where += f' AND "at" >= {_when(scope.since)}'
    keep = ""
    if scope.share is not None:
        keep = f"WHERE hash(request_id, i, {SAMPLE_SEED}) % {SAMPLE_SCALE} < {scope.share}"
    run_sql(
        con,
        f"""CREATE TEMP VIEW rows AS SELECT * FROM (
            SELECT request_id, "at", version, unnest(ins) AS input, unnest(outs) AS output,
                   unnest(generate_series(1, len(ins))) AS i
            FROM (SELECT *, CAST(inputs AS JSON[]) AS ins, CAST(outputs AS JSON[]) AS outs
                  FROM log WHERE {where})) {keep}""",
    )
    return con


def parsed_struct(column: str, keys: list[str]) -> str:
    """Each JSON object parsed into a struct of its (still JSON) values, once."""
    if not keys:
        return "NULL"
    return f"from_json({column}, {sql_text(json.dumps({k: 'JSON' for k in keys}))})"


def _typed(value: str, numeric: bool) -> str:
    return f"TRY_CAST({value} AS DOUBLE)" if numeric else f"json_extract_string({value}, '$')"


def typed_batches(
    files: tuple[str, ...],
    scope: WindowScope,
    columns: WindowColumns,
    names: list[str],
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """One group's rows as Arrow batches of the named ``i:``/``o:`` columns, typed as the
    whole window types them (so a batch equals the same rows of ``read_window``'s tables)."""
    inputs, outputs = dict(columns.inputs), dict(columns.outputs)
    selects = []
    for name in names:
        side, _, key = name.partition(":")
        if side == "i":
            selects.append(_typed(f"struct_extract(fi, {sql_text(key)})", inputs[key]))
        elif columns.scalar_output:
            selects.append(_typed("fo", outputs[key]))
        else:
            selects.append(_typed(f"struct_extract(fo, {sql_text(key)})", outputs[key]))
    fo = "output" if columns.scalar_output else parsed_struct("output", list(outputs))
    with open_rows(scope, files) as con:
        run_sql(
            con,
            f"CREATE TEMP VIEW parsed AS SELECT {parsed_struct('input', list(inputs))} AS fi, "
            f"{fo} AS fo FROM rows",
        )
        listed = ", ".join(f"{s} AS {_quoted(n)}" for s, n in zip(selects, names, strict=True))
        reader = con.sql(f"SELECT {listed or '1 AS _'} FROM parsed").to_arrow_reader(batch_rows)
        for batch in reader:
            yield batch if names else batch.select([])


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
