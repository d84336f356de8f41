"""``steward tasks``: the approver's inbox, and approve, reject or comment on a task."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_json, print_table
from modelsteward.errors import InvalidInput

tasks = typer.Typer(
    help="Approval tasks: your inbox; approve, reject or comment.", invoke_without_command=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Comment = Annotated[str, typer.Option("--comment", "-m", help="Why; goes to the audit trail.")]


@tasks.callback()
def inbox(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option(help="open, approved, rejected, cancelled or all.")
    ] = "open",
    as_json: JsonFlag = False,
) -> None:
    """Your inbox: the tasks your role decides (an admin sees every task)."""
    if ctx.invoked_subcommand is not None:
        return
    with client() as c:
        rows = c._call("GET", "/api/v1/tasks", params={"status": status})
    if as_json:
        print_json(rows)
        return
    print_table(
        "Tasks",
        ["id", "model", "version", "transition", "role", "approvals", "status", "opened"],
        [
            (
                t["id"],
                t["model"],
                t["version"],
                t["transition"],
                t["deciding_role"],
                f"{t['approvals']}/{t['needed']}",
                t["status"],
                t["created_at"][:19],
            )
            for t in rows
        ],
        empty="no tasks" if status == "all" else f"no {status} tasks",
    )


def _decide(task_id: int, decision: str, comment: str, as_json: bool) -> None:
    with client() as c:
        result = c._call("POST", f"/api/v1/tasks/{task_id}/{decision}", json={"comment": comment})
    if as_json:
        print_json(result)
        return
    task = result["task"]
    console.print(
        f"task {task['id']}: {decision} recorded ({task['approvals']}/{task['needed']} "
        f"approvals, {task['status']})"
    )
    completed = result.get("completed")
    if completed:
        instance = completed["instance"]
        console.print(
            f"{instance['model']} v{instance['version']}: {completed['transition']} "
            f"{completed['outcome']} (state {instance['state']})"
        )


@tasks.command("approve")
def approve(task_id: int, comment: Comment = "", as_json: JsonFlag = False) -> None:
    """Approve a task; the last approval needed completes the transition."""
    _decide(task_id, "approve", comment, as_json)


@tasks.command("reject")
def reject(task_id: int, comment: Comment = "", as_json: JsonFlag = False) -> None:
    """Reject a task: it closes and the version stays where it is."""
    _decide(task_id, "reject", comment, as_json)


@tasks.command("comment")
def comment(task_id: int, comment: Comment = "", as_json: JsonFlag = False) -> None:
    """Add a comment to a task without deciding it."""
    if not comment:
        raise InvalidInput("give the comment with --comment TEXT")
    _decide(task_id, "comment", comment, as_json)
