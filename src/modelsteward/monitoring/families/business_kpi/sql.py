"""Business KPIs written as DuckDB SQL over a window of predictions and labels.

The query sees one table, ``predictions``, one row per logged prediction:
``time``, ``request_id``, ``version``, ``route``, ``latency_ms``, ``status``, ``key``
(the request meta); every input column prefixed ``input_`` (``input_age``); every output
column under its own name (``prediction``, ``probability``; ``output_<name>`` where that
name is taken); and ``label`` (text) and ``label_number`` (NULL where none was posted).
It returns one number, or rows of (segment, number).

The SQL is user input, so it is held twice. When a spec is made, ``check_sql`` accepts
exactly one SELECT (or WITH ... SELECT) that reads no table but ``predictions`` and its
own CTEs and calls no table function but ``range``/``generate_series``/``unnest``. When
it runs, ``run_sql_kpi`` uses a fresh in-memory DuckDB holding only the registered Arrow
table, with external access (files, network, extensions) switched off and the
configuration locked after registering, a memory limit, no spilling to disk, a time
limit (the query is interrupted) and a limit on the rows it may return.
"""

from __future__ import annotations

import json
import math
import numbers
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.windows import PredictionWindow

TABLE = "predictions"
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
MAX_SQL = 20_000
MAX_RESULT_ROWS = 50
MEMORY_LIMIT = "1GB"
LOCKDOWN = (  # in this order: no setting may change once external access is off
    f"SET memory_limit = '{MEMORY_LIMIT}'",
    "SET temp_directory = ''",
    "SET max_temp_directory_size = '0KiB'",
    "SET threads = 2",
    "SET autoload_known_extensions = false",
    "SET autoinstall_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET allow_unsigned_extensions = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",  # last: nothing above can be undone by the query
)


def check_sql(sql: str) -> str:
    """The query if it is one safe SELECT over ``predictions``; else InvalidInput says why."""
    if not sql.strip():
        raise InvalidInput("the KPI query is empty")
    if len(sql) > MAX_SQL:
        raise InvalidInput(f"the KPI query has more than {MAX_SQL} characters")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidInput(f"the KPI query does not parse: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise InvalidInput(f"the KPI query must be one statement; it has {len(statements)}")
    kind = statements[0].type.name
    if kind != "SELECT":
        raise InvalidInput(f"the KPI query must be a SELECT (or WITH ... SELECT), not {kind}")
    with duckdb.connect(":memory:") as con:
        found = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    tree = json.loads(found)
    if tree.get("error"):
        raise InvalidInput(f"the KPI query is not a plain SELECT: {tree.get('error_message')}")
    nodes = list(_nodes(tree["statements"]))
    ctes = {str(e["key"]).lower() for n in nodes for e in (n.get("cte_map") or {}).get("map", [])}
    for node in nodes:
        _check_node(node, ctes)
    return sql


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object of the parsed query, depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_node(node: dict[str, Any], ctes: set[str]) -> None:
    kind = node.get("type")
    if kind == "BASE_TABLE":
        name = str(node.get("table_name", ""))
        qualified = node.get("schema_name") or node.get("catalog_name")
        if qualified or name.lower() not in ctes | {TABLE}:
            raise InvalidInput(
                f"the KPI query may read only the table {TABLE!r} (and its own CTEs), "
                f"not {name[:80]!r}"
            )
    elif kind == "TABLE_FUNCTION":
        function = node.get("function") or {}
        name = str(function.get("function_name", ""))
        if name.lower() not in TABLE_FUNCTIONS or function.get("schema"):
            allowed = ", ".join(sorted(TABLE_FUNCTIONS))
            raise InvalidInput(
                f"the KPI query may not call the table function {name[:80]!r} (allowed: {allowed})"
            )
    elif kind == "SHOW_REF":
        raise InvalidInput("the KPI query may not DESCRIBE, SHOW or SUMMARIZE")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def predictions_table(window: PredictionWindow) -> pa.Table:
    """The window as the table a KPI query reads (see the module docstring)."""
    columns: dict[str, pa.ChunkedArray] = {}
    for name in window.meta.column_names:
        columns["time" if name == "at" else name] = window.meta.column(name)
    for name in window.inputs.column_names:
        columns[f"input_{name}"] = window.inputs.column(name)
    labels = window.labels
    if labels is None:
        rows = window.rows
        labels = pa.table(
            {"label": pa.nulls(rows, pa.string()), "label_number": pa.nulls(rows, pa.float64())}
        )
    taken = {n.lower() for n in (*columns, *labels.column_names)}
    for name in window.outputs.column_names:
        free = name
        while free.lower() in taken:
            free = f"output_{free}"
        taken.add(free.lower())
        columns[free] = window.outputs.column(name)
    for name in labels.column_names:
        columns[name] = labels.column(name)
    return pa.table(columns)


def sandbox(table: pa.Table) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB that holds ``table`` as ``predictions`` and nothing else."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register(TABLE, table)
        for statement in LOCKDOWN:
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


def run_sql_kpi(
    sql: str, table: pa.Table, *, timeout_s: float = 30.0
) -> list[tuple[str, float | None]]:
    """(segment, value) pairs of the query: one ("", value) for a single-value query.

    Refuses (InvalidInput) a query that fails, runs past ``timeout_s``, or returns
    anything but one value or at most ``MAX_RESULT_ROWS`` rows of (segment, value)."""
    check_sql(sql)
    con = sandbox(table)
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.start()
    try:
        result = con.execute(sql)
        width = len(result.description or [])
        rows = result.fetchmany(MAX_RESULT_ROWS + 1)
    except duckdb.InterruptException:
        raise InvalidInput(f"the KPI query ran longer than {timeout_s:g} s") from None
    except duckdb.Error as exc:
        raise InvalidInput(f"the KPI query failed: {_first_line(exc)}") from None
    finally:
        timer.cancel()
        con.close()
    if width not in (1, 2):
        raise InvalidInput(
            f"a KPI query returns one value, or rows of (segment, value); it returned {width} "
            "columns"
        )
    if len(rows) > MAX_RESULT_ROWS:
        raise InvalidInput(f"a KPI query returns at most {MAX_RESULT_ROWS} rows")
    if width == 1:
        if len(rows) > 1:
            raise InvalidInput(f"a one-column KPI query returns one row; it returned {len(rows)}")
        return [("", number(rows[0][0]) if rows else None)]
    return [("" if s is None else str(s)[:128], number(v)) for s, v in rows]


def number(value: Any) -> float | None:
    """A query's value as a finite float (None for NULL, NaN or infinity)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise InvalidInput(f"a KPI query returns numbers; it returned {type(value).__name__}")
    result = float(value)
    return result if math.isfinite(result) else None
