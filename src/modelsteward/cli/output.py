"""Printing for the CLI: rich tables for people, ``--json`` for scripts, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, header_style="bold", show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def print_fields(title: str, fields: Iterable[tuple[str, Any]]) -> None:
    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in fields:
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else value
        table.add_row(key, "" if shown is None else str(shown))
    console.print(table)


def fail(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
