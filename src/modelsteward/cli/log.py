"""``steward log``: upkeep of the prediction log, run where the log's storage is reachable."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from modelsteward.cli.output import console, print_json, print_table
from modelsteward.config import Settings
from modelsteward.errors import InvalidInput

# serving.compaction is imported only when the command runs: it pulls in pyarrow, which
# every other command would pay for at start.
log = typer.Typer(help="Upkeep of the prediction log.", no_args_is_help=True)


@log.command("compact")
def compact(
    deployment: Annotated[
        str | None, typer.Option("--deployment", help="Only this deployment's hours.")
    ] = None,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            metavar="MINUTES",
            help="Compact hours that ended at least this long ago "
            "(default: STEWARD_LOG_COMPACT_GRACE_MINUTES).",
        ),
    ] = None,
    keep_replaced: Annotated[
        float | None,
        typer.Option(
            "--keep-replaced",
            metavar="MINUTES",
            help="Keep merged files this long for readers that listed them before; "
            "0 removes them at once (only safe when nothing reads the log). Default: 15.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Merge each closed hour's part files into one file, and remove stale temp files."""
    from modelsteward.serving.compaction import KEEP_REPLACED, compact_log

    settings = Settings.from_env()
    grace = settings.log_compact_grace_minutes if older_than is None else older_than
    keep = KEEP_REPLACED if keep_replaced is None else timedelta(minutes=keep_replaced)
    if grace < 0 or keep < timedelta(0):
        raise InvalidInput("--older-than and --keep-replaced must not be negative")
    report = compact_log(
        settings.logs_url, deployment=deployment, grace=timedelta(minutes=grace), keep_replaced=keep
    )
    if as_json:
        print_json(report.as_dict())
        return
    totals = report.as_dict()
    if report.compacted:
        print_table(
            "Compacted hours",
            ["deployment", "hour", "files merged", "rows", "bytes before", "bytes after"],
            [
                (h.deployment, h.hour, h.files_before, h.rows, h.bytes_before, h.bytes_after)
                for h in report.compacted
            ],
        )
    console.print(
        f"compacted {totals['hours_compacted']} hour(s): {totals['files_before']} files -> "
        f"{totals['files_after']}, {totals['rows']} rows, {totals['bytes_before']} -> "
        f"{totals['bytes_after']} bytes; removed {report.replaced_removed} replaced and "
        f"{report.temp_removed} stale temporary file(s)",
        highlight=False,
    )
    for hour in report.busy:
        console.print(f"{hour}: another compactor holds it; left for the next pass")
    for hour in report.failed:
        console.print(f"[red]{hour}: compaction failed (see the log); nothing changed[/red]")
