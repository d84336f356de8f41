"""``steward users|audit ...``: accounts, tokens and the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_json, print_table

users = typer.Typer(help="Users, roles and API tokens (admin).", no_args_is_help=True)
audit = typer.Typer(help="Read and verify the audit trail.", no_args_is_help=True)


@users.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    with client() as c:
        rows = c._call("GET", "/api/v1/users")
    if as_json:
        print_json(rows)
    else:
        print_table(
            "Users",
            ["name", "role", "disabled"],
            [(u["name"], u["role"], u["disabled"]) for u in rows],
        )


@users.command("create")
def create_user(
    name: str,
    role: Annotated[
        str, typer.Option(help="viewer, data-scientist, operator, risk-manager, admin")
    ],
    password: Annotated[str | None, typer.Option(help="For signing in to the web UI.")] = None,
) -> None:
    with client() as c:
        c._call("POST", "/api/v1/users", json={"name": name, "role": role, "password": password})
    console.print(f"created user {name} ({role})")


@users.command("token")
def issue_token(name: str, label: Annotated[str, typer.Option("--label")] = "cli") -> None:
    """Print a new API token for NAME (shown once; only its hash is stored)."""
    with client() as c:
        print(c._call("POST", f"/api/v1/users/{name}/tokens", json={"name": label})["token"])


@users.command("revoke")
def revoke(name: str) -> None:
    """Revoke every token of NAME."""
    with client() as c:
        count = c._call("DELETE", f"/api/v1/users/{name}/tokens")["revoked"]
    console.print(f"revoked {count} token(s) of {name}")


@audit.command("list")
def list_events(
    model: Annotated[
        str | None,
        typer.Option(
            help="Only records that concern this model: its versions, life cycle, tasks, "
            "deployments and monitors too."
        ),
    ] = None,
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    params: dict[str, object] = {"limit": limit}
    if model:
        params["model"] = model
    with client() as c:
        events = c._call("GET", "/api/v1/audit", params=params)
    if as_json:
        print_json(events)
        return
    print_table(
        "Audit trail (newest first)",
        ["seq", "when", "actor", "action", "object"],
        [
            (
                e["seq"],
                e["at"][:19],
                e["actor"],
                e["action"],
                f"{e['object_type']}:{e['object_id']}",
            )
            for e in events
        ],
        empty=f"no audit records about {model}" if model else "no audit records",
    )
    if len(events) >= limit:
        console.print(f"(the newest {limit}; --limit N shows more)", highlight=False)


@audit.command("verify")
def verify() -> None:
    """Recompute the hash chain; exits non-zero when it is broken."""
    with client() as c:
        report = c._call("GET", "/api/v1/audit/verify")
    if report["ok"]:
        console.print(f"audit chain intact ({report['checked']} records)")
        return
    console.print(
        f"[red]audit chain broken at record {report['broken_at']}: {report['reason']}[/red]"
    )
    raise typer.Exit(6)
