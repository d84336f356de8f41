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


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _duration_s(text: str) -> int:
    """``30d``, ``12h`` or ``90m`` in seconds; a one-line error for anything else."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in _UNITS or not value.isdecimal() or int(value) == 0:
        raise typer.BadParameter(f"{text[:20]!r} is not a duration such as 30d, 12h or 90m")
    return int(value) * _UNITS[unit]


@users.command("token")
def issue_token(
    name: str,
    label: Annotated[str, typer.Option("--label")] = "cli",
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime such as 30d, 12h or 90m.")
    ] = None,
) -> None:
    """Print a new API token for NAME (shown once; only its hash is stored)."""
    body: dict[str, object] = {"name": label}
    if expires is not None:
        body["expires_in_seconds"] = _duration_s(expires)
    with client() as c:
        print(c._call("POST", f"/api/v1/users/{name}/tokens", json=body)["token"])


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
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option("--expect-head", help="Head hash kept elsewhere; a different head fails."),
    ] = None,
) -> None:
    """Recompute the hash chain and check it against its latest signed checkpoint (and
    --expect-head); exits non-zero when anything disagrees."""
    params = {"expect_head": expect_head} if expect_head else None
    with client() as c:
        report = c._call("GET", "/api/v1/audit/verify", params=params)
    point = report.get("checkpoint")
    seen = f"; checkpoint at record {point['seq']} ({point['at']})" if point else ""
    if report["ok"]:
        console.print(
            f"audit chain intact: {report['count']} records, head {report['head_hash']}{seen}"
        )
        return
    where = f" at record {report['broken_at']}" if report.get("broken_at") else ""
    console.print(f"[red]audit chain broken{where}: {report['reason']}[/red]")
    raise typer.Exit(6)


@audit.command("checkpoint")
def checkpoint() -> None:
    """Sign and keep the chain's current head, so deleting records after it is found."""
    with client() as c:
        point = c._call("POST", "/api/v1/audit/checkpoint")
    console.print(f"checkpoint: {point['seq']} records, head {point['hash']} ({point['at']})")
