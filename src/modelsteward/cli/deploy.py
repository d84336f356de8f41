"""``steward deploy`` and ``steward deployments ...``: serve versions, shift traffic, roll back."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_fields, print_json, print_table
from modelsteward.errors import InvalidInput, StewardError
from modelsteward.sdk.client import Client

deployments = typer.Typer(
    help="Deployments: routes, traffic, history, rollback.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
WaitFlag = Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the rollout's steps.")]
OverrideFlag = Annotated[
    str | None,
    typer.Option(
        "--override",
        metavar="REASON",
        help="Break-glass: serve a version its life cycle does not admit here, for this "
        "reason (needs deployment.override; audited and raised as deployment.overridden).",
    ),
]
TIMEOUT_S = 300


class RolloutFailed(StewardError):
    status, code, exit_code = 409, "rollout_failed", 9


def _follow(c: Client, revision: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Print each step as the rollout worker records it; return the finished revision."""
    name, number = revision["deployment"], revision["revision"]
    shown, deadline = 0, time.monotonic() + TIMEOUT_S
    while True:
        current = c._call("GET", f"/api/v1/deployments/{name}/revisions/{number}")
        for step in current["steps"][shown:]:
            if not as_json:
                mark = "[green]✓[/green]" if step["status"] == "ok" else "[red]✗[/red]"
                console.print(f"  {mark} {step['step']:<8} {step['detail']}", highlight=False)
        shown = len(current["steps"])
        if current["status"] not in ("pending", "running"):
            return current
        if time.monotonic() > deadline:
            raise RolloutFailed(
                f"revision {number} of {name} is still {current['status']} after {TIMEOUT_S}s"
            )
        time.sleep(0.2)


def _finish(c: Client, revision: dict[str, Any], wait: bool, as_json: bool) -> None:
    if wait:
        revision = _follow(c, revision, as_json)
    if as_json:
        print_json(revision)
    elif not wait:
        console.print(f"{revision['deployment']}: revision {revision['revision']} requested")
    if wait and revision["status"] != "applied":
        raise RolloutFailed(
            f"revision {revision['revision']} of {revision['deployment']} was not applied "
            f"({revision['status']}); the previous state keeps serving"
        )
    if wait and not as_json:
        console.print(f"{revision['deployment']}: revision {revision['revision']} serving")


def deploy(
    target: Annotated[
        str, typer.Argument(metavar="NAME:VERSION", help="Model and version or alias.")
    ],
    env: Annotated[
        str, typer.Option("--env", help="Environment, created on first use.")
    ] = "production",
    strategy: Annotated[str, typer.Option(help="direct, canary, shadow or ab")] = "direct",
    traffic: Annotated[
        int | None, typer.Option(help="Challenger share in percent (canary, ab).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Deployment name (default NAME-ENV).")] = None,
    override: OverrideFlag = None,
    wait: WaitFlag = True,
    as_json: JsonFlag = False,
) -> None:
    """Serve a version: the previous state keeps serving until every step has passed."""
    model, sep, version = target.partition(":")
    if not sep or not model or not version:
        raise InvalidInput("give the target as NAME:VERSION, e.g. churn:3 or churn:champion")
    body = {
        "model": model,
        "version": version,
        "environment": env,
        "strategy": strategy,
        "traffic": traffic,
        "name": name,
    }
    if override is not None:
        body["override"] = override
    with client() as c:
        revision = c._call("POST", "/api/v1/deployments", json=body)
        if not as_json:
            console.print(
                f"deploying {model} v{version} to {env} ({strategy}) as {revision['deployment']}"
            )
        _finish(c, revision, wait, as_json)


@deployments.command("list")
def list_deployments(
    env: Annotated[str | None, typer.Option("--env")] = None, as_json: JsonFlag = False
) -> None:
    with client() as c:
        rows = c._call("GET", "/api/v1/deployments", params={"environment": env} if env else {})
    if as_json:
        print_json(rows)
        return
    print_table(
        "Deployments",
        ["name", "model", "env", "status", "strategy", "routes", "revision"],
        [
            (
                d["name"],
                d["model"],
                d["environment"],
                d["status"],
                d["strategy"],
                ", ".join(f"v{r['version']} {r['role']} {r['weight']}%" for r in d["routes"]),
                d["applied_revision"],
            )
            for d in rows
        ],
        empty=f"no deployments in {env}" if env else "no deployments",
    )


@deployments.command("show")
def show(name: str, as_json: JsonFlag = False) -> None:
    """Routes, and the history of revisions with their steps."""
    with client() as c:
        view = c._call("GET", f"/api/v1/deployments/{name}")
    if as_json:
        print_json(view)
        return
    print_fields(
        name,
        [(k, view[k]) for k in ("model", "environment", "status", "strategy", "applied_revision")]
        + [
            (
                "routes",
                ", ".join(f"v{r['version']} {r['role']} {r['weight']}%" for r in view["routes"]),
            )
        ],
    )
    for route in view.get("unadmitted", []):
        console.print(
            f"[yellow]warning:[/yellow] v{route['version']} ({route['role']}) is "
            f"{route['headline']}: {route['message']}",
            highlight=False,
        )
    print_table(
        "Revisions",
        ["revision", "status", "strategy", "reason", "by", "steps"],
        [
            (
                r["revision"],
                r["status"],
                r["strategy"],
                r["reason"],
                r["created_by"],
                " → ".join(f"{s['step']}:{s['status']}" for s in r["steps"]),
            )
            for r in view["revisions"]
        ],
    )


@deployments.command("traffic")
def traffic(
    name: str,
    percent: Annotated[int, typer.Argument(help="Challenger share, 0-100.")],
    override: OverrideFlag = None,
    wait: WaitFlag = True,
    as_json: JsonFlag = False,
) -> None:
    """Change the challenger's share of traffic live."""
    body: dict[str, Any] = {"traffic": percent, "override": override}
    with client() as c:
        _finish(c, c._call("PUT", f"/api/v1/deployments/{name}/traffic", json=body), wait, as_json)


@deployments.command("rollback")
def rollback(
    name: str,
    revision: Annotated[
        int | None, typer.Option(help="Revision to return to (default: the previous).")
    ] = None,
    override: OverrideFlag = None,
    wait: WaitFlag = True,
    as_json: JsonFlag = False,
) -> None:
    """Return to an earlier applied state in one command."""
    body = {"revision": revision, "override": override}
    with client() as c:
        requested = c._call("POST", f"/api/v1/deployments/{name}/rollback", json=body)
        _finish(c, requested, wait, as_json)
