"""What the parts of a prediction-log window hold, merged into the window's column types.

Each task reports its part's facts (``group_facts``); merged, they decide what
``read_window`` decides over the whole window: the feature keys in order of first
appearance, which of them hold only numbers, how many rows there are, and which version
served most of them. A part is read twice: once for its key lists (grouped, so a
thousand rows of one schema are one line), once to count non-numbers per key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from modelsteward.monitoring.windows import MAX_KEYS, NUMBER_TYPES, run_sql
from modelsteward.monitoring.windows.scan import (
    WindowColumns,
    WindowScope,
    open_rows,
    parsed_struct,
    sql_text,
)

FirstSeen = tuple[int, int]  # (earliest time in epoch µs, earliest position in an object)
FirstRow = tuple[int, str, int]  # (time in epoch µs, request id, row within the request)
SHAPES = 10_000  # distinct key lists read at once; beyond, keys are counted one by one


def _earliest(into: dict[str, FirstSeen], key: str, at: int, pos: int) -> None:
    mine = into.get(key)
    into[key] = (at, pos) if mine is None else (min(mine[0], at), min(mine[1], pos))


@dataclass
class GroupFacts:
    """One part of a window: rows, keys, counts of non-numbers per key, versions."""

    rows: int = 0
    first_at: int | None = None
    input_keys: dict[str, FirstSeen] = field(default_factory=dict)
    output_keys: dict[str, FirstSeen] = field(default_factory=dict)
    input_text: dict[str, int] = field(default_factory=dict)
    output_text: dict[str, int] = field(default_factory=dict)
    scalar_output_text: int = 0
    versions: dict[int | None, tuple[int, FirstRow]] = field(default_factory=dict)

    def add_rows(self, version: int | None, rows: int, first: FirstRow) -> None:
        self.rows += rows
        if self.first_at is None or first[0] < self.first_at:
            self.first_at = first[0]
        mine = self.versions.get(version)
        self.versions[version] = (
            (rows, first) if mine is None else (mine[0] + rows, min(mine[1], first))
        )

    def merge(self, other: GroupFacts) -> None:
        for version, (rows, first) in other.versions.items():
            self.add_rows(version, rows, first)
        for mine, theirs in (
            (self.input_keys, other.input_keys),
            (self.output_keys, other.output_keys),
        ):
            for key, (at, pos) in theirs.items():
                _earliest(mine, key, at, pos)
        for counts, more in (
            (self.input_text, other.input_text),
            (self.output_text, other.output_text),
        ):
            for key, count in more.items():
                counts[key] = counts.get(key, 0) + count
        self.scalar_output_text += other.scalar_output_text

    @property
    def version(self) -> int | None:
        """The version that served most rows; on a tie the one seen first (as
        ``runner.dominant_version`` over the ordered window)."""
        if not self.versions:
            return None
        return min(self.versions, key=lambda v: (-self.versions[v][0], self.versions[v][1]))


def _first(value: dict[str, Any]) -> FirstRow:
    return int(value["at"]), str(value["rid"]), int(value["i"])


_FIRST_ROW = """min({'at': epoch_us("at"), 'rid': request_id, 'i': i})"""


def _by_shape(con: duckdb.DuckDBPyConnection) -> GroupFacts | None:
    """Rows, versions and keys from one scan grouped by key lists (None: too many lists)."""
    shapes = run_sql(
        con,
        f"""SELECT CASE WHEN json_type(input) = 'OBJECT' THEN json_keys(input) END,
                   CASE WHEN json_type(output) = 'OBJECT' THEN json_keys(output) END,
                   version, count(*), {_FIRST_ROW}
            FROM rows GROUP BY ALL LIMIT {SHAPES + 1}""",
    )
    if len(shapes) > SHAPES:
        return None
    facts = GroupFacts()
    for input_keys, output_keys, version, rows, first in shapes:
        at = _first(first)[0]
        facts.add_rows(version, int(rows), _first(first))
        for keys, found in ((input_keys, facts.input_keys), (output_keys, facts.output_keys)):
            for pos, key in enumerate(keys or (), start=1):
                _earliest(found, str(key), at, pos)
    return facts


def _one_by_one(con: duckdb.DuckDBPyConnection) -> GroupFacts:
    facts = GroupFacts()
    for version, rows, first in run_sql(
        con, f"SELECT version, count(*), {_FIRST_ROW} FROM rows GROUP BY version"
    ):
        facts.add_rows(version, int(rows), _first(first))
    for column, found in (("input", facts.input_keys), ("output", facts.output_keys)):
        for key, at, pos in run_sql(
            con,
            f"""SELECT k, min(epoch_us("at")), min(pos) FROM (
                    SELECT "at", unnest(ks) AS k, unnest(generate_series(1, len(ks))) AS pos
                    FROM (SELECT "at", json_keys({column}) AS ks FROM rows
                          WHERE json_type({column}) = 'OBJECT'))
                GROUP BY k""",
        ):
            found[str(key)] = (int(at), int(pos))
    return facts


def _unique_ignoring_case(keys: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for key in keys:
        if key.lower() not in seen:
            seen.add(key.lower())
            kept.append(key)
    return kept


def _count_text(con: duckdb.DuckDBPyConnection, facts: GroupFacts) -> None:
    """Per key (and for plain outputs), how many values are neither numbers nor null."""
    ins = _unique_ignoring_case(list(facts.input_keys))
    outs = _unique_ignoring_case(list(facts.output_keys))
    run_sql(
        con,
        f"CREATE TEMP VIEW parsed AS SELECT {parsed_struct('input', ins)} AS fi, "
        f"{parsed_struct('output', outs)} AS fo, output FROM rows",
    )
    values = [f"struct_extract(fi, {sql_text(k)})" for k in ins]
    values += [f"struct_extract(fo, {sql_text(k)})" for k in outs] + ["output"]
    checks = ", ".join(
        f"count(*) FILTER (WHERE json_type({v}) NOT IN {NUMBER_TYPES} AND json_type({v}) <> 'NULL')"
        for v in values
    )
    counts = [int(n) for n in run_sql(con, f"SELECT {checks} FROM parsed")[0]]
    facts.input_text = dict(zip(ins, counts[: len(ins)], strict=True))
    facts.output_text = dict(zip(outs, counts[len(ins) : -1], strict=True))
    facts.scalar_output_text = counts[-1]


def group_facts(files: tuple[str, ...], scope: WindowScope) -> GroupFacts:
    """A task: what one group of part files holds of the window (no values kept)."""
    with open_rows(scope, files) as con:
        facts = _by_shape(con) or _one_by_one(con)
        _count_text(con, facts)
    return facts


def _ordered(keys: dict[str, FirstSeen]) -> list[str] | None:
    """Keys by first appearance (as ``read_window``); None when two differ only in case,
    where ``read_window`` keeps whichever it met first and a part cannot tell which."""
    order = sorted(keys, key=lambda k: (keys[k][0], keys[k][1], k))[:MAX_KEYS]
    if len({k.lower() for k in order}) != len(order):
        return None
    return order


def columns_of(facts: GroupFacts) -> WindowColumns | None:
    inputs, outputs = _ordered(facts.input_keys), _ordered(facts.output_keys)
    if inputs is None or outputs is None:
        return None
    typed_inputs = tuple((k, facts.input_text.get(k, 0) == 0) for k in inputs)
    if outputs:
        typed_outputs = tuple((k, facts.output_text.get(k, 0) == 0) for k in outputs)
        return WindowColumns(typed_inputs, typed_outputs, scalar_output=False)
    scalar = (("prediction", facts.scalar_output_text == 0),)
    return WindowColumns(typed_inputs, scalar, scalar_output=True)
