"""Printing for the CLI: rich tables for people, ``--json`` for scripts, one-line errors.

On a terminal, tables take its width and fold long cells rather than cut them; written
to a file or a pipe, nothing is cut at rich's default 80 columns.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

# Wide enough for any table; tables never stretch to fill it (expand=False).
UNBOUNDED = 4096


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else UNBOUNDED
    return Console(stderr=stderr, width=width)


console = _console()
errors = _console(stderr=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str | None = None,
) -> None:
    """A table; with no rows and an ``empty`` message, the message instead of a bare head."""
    table = Table(title=title, header_style="bold", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    if not table.rows and empty is not None:
        console.print(empty, highlight=False, soft_wrap=True)
        return
    console.print(table)


def print_fields(title: str, fields: Iterable[tuple[str, Any]]) -> None:
    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in fields:
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else value
        table.add_row(key, "" if shown is None else str(shown))
    console.print(table)


def note(message: str) -> None:
    """Something the user should know that is not an error, on stderr."""
    errors.print(f"note: {message}", highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
