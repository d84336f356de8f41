"""``steward fsck``: check the local stores, with a progress bar for large ones."""

from __future__ import annotations

from rich.progress import Progress

from modelsteward.cli.output import console, print_json, print_table
from modelsteward.context import Steward
from modelsteward.store.fsck import run_fsck


def run(*, gc: bool, as_json: bool) -> int:
    """Returns the exit code: 0 when intact, 6 when anything is missing, corrupt or broken."""
    steward = Steward()
    try:
        with Progress(transient=True, disable=as_json, console=console) as bar:
            task = bar.add_task("checking artifacts", total=None)
            report = run_fsck(
                steward,
                gc=gc,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        steward.close()
    if as_json:
        print_json(report.as_dict())
        return 0 if report.ok else 6
    console.print(
        f"checked {report.versions_checked} versions, {report.files_checked} files, "
        f"{report.blobs_checked} blobs, {report.audit.checked} audit records"
    )
    problems = [("missing", p) for p in report.missing] + [("corrupt", p) for p in report.corrupt]
    if problems:
        print_table(
            "Damaged files",
            ["problem", "model", "version", "file", "sha256"],
            [(kind, p.model, p.version, p.file, p.sha256[:16]) for kind, p in problems],
        )
    for sha in report.missing_blobs:
        console.print(f"[red]blob {sha} is recorded but missing from the artifact store[/red]")
    if report.audit.broken_at is not None:
        console.print(
            f"[red]audit chain broken at record {report.audit.broken_at}: "
            f"{report.audit.reason}[/red]"
        )
    console.print(
        f"{len(report.orphan_blobs)} orphaned blob(s), {report.stale_staging} stale staged file(s)"
        + (
            f"; removed {report.collected_blobs} blob(s), {report.collected_staging} staged file(s)"
            if gc
            else ""
        )
    )
    for sha in report.orphan_blobs[:10]:
        console.print(f"[yellow]orphaned blob {sha}: no version or upload refers to it[/yellow]")
    if len(report.orphan_blobs) > 10:
        console.print(f"[yellow]... and {len(report.orphan_blobs) - 10} more[/yellow]")
    litter = (
        f" (with {len(report.orphan_blobs)} orphaned blob(s); "
        "steward fsck --gc removes those older than an hour)"
        if report.orphan_blobs and not gc
        else ""
    )
    console.print(
        f"[green]store intact[/green]{litter}" if report.ok else "[red]store damaged[/red]"
    )
    return 0 if report.ok else 6
