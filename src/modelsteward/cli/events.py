"""``steward events ...``: the outbox, failed deliveries, subscribers, and redelivery."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_json, print_table

events = typer.Typer(
    help="Events: what was committed, what failed to be delivered, and redelivery.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Limit = Annotated[int, typer.Option(help="How many rows at most (1-1000).")]


@events.command("list")
def list_events(
    state: Annotated[
        str | None,
        typer.Option(help="Deliveries in this state: pending, failed (dead letter), delivered."),
    ] = None,
    subscriber: Annotated[str | None, typer.Option(help="Only this subscriber's.")] = None,
    name: Annotated[str | None, typer.Option(help="Only events of this name.")] = None,
    limit: Limit = 50,
    as_json: JsonFlag = False,
) -> None:
    """Recent events, newest first; with --state, the deliveries in that state."""
    with client() as c:
        if state is not None or subscriber is not None:
            params = {"state": state, "subscriber": subscriber, "limit": limit}
            rows = c._call("GET", "/api/v1/events/deliveries", params=_set(params))
        else:
            rows = c._call("GET", "/api/v1/events", params=_set({"name": name, "limit": limit}))
    if as_json:
        print_json(rows)
        return
    if state is not None or subscriber is not None:
        if not rows:
            console.print(f"no {state or ''} deliveries".replace("  ", " "))
            return
        print_table(
            "Deliveries",
            ["event", "name", "object", "subscriber", "state", "attempts", "last error"],
            [
                (
                    r["event_id"],
                    r["event"],
                    f"{r['object_type']} {r['object_id']}",
                    r["subscriber"],
                    r["state"],
                    r["attempts"],
                    (r["last_error"] or "")[:120],
                )
                for r in rows
            ],
        )
        return
    if not rows:
        console.print("no events yet")
        return
    print_table(
        "Events",
        ["id", "at", "name", "object", "actor", "payload"],
        [
            (
                e["id"],
                str(e["at"])[:19],
                e["name"],
                f"{e['object_type']} {e['object_id']}",
                e["actor"],
                json.dumps(e["payload"], default=str)[:80],
            )
            for e in rows
        ],
    )


@events.command("retry")
def retry(
    event_id: Annotated[int, typer.Argument(metavar="ID", help="The event's id.")],
    subscriber: Annotated[
        str | None, typer.Option(help="Only to this subscriber (default: every failed one).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a dead-lettered event again to the subscribers it failed for."""
    with client() as c:
        body = {"subscriber": subscriber} if subscriber else None
        done = c._call("POST", f"/api/v1/events/{event_id}/retry", json=body)
    if as_json:
        print_json(done)
    else:
        console.print(f"event {event_id}: {done['queued']} delivery(ies) queued again")


@events.command("subscribers")
def subscribers(as_json: JsonFlag = False) -> None:
    """Every subscriber: where it runs, how far behind it is, what waits or failed."""
    with client() as c:
        rows = c._call("GET", "/api/v1/events/subscribers")
    if as_json:
        print_json(rows)
        return
    print_table(
        "Subscribers",
        ["name", "scope", "events", "behind", "pending", "failed"],
        [
            (
                r["name"],
                r["scope"],
                ", ".join(r["events"]),
                "" if r["behind"] is None else r["behind"],
                r["pending"],
                r["failed"],
            )
            for r in rows
        ],
    )


@events.command("catalogue")
def catalogue(as_json: JsonFlag = False) -> None:
    """Every event the platform records, with its meaning (--json: payload schemas too)."""
    with client() as c:
        rows = c._call("GET", "/api/v1/events/catalogue")
    if as_json:
        print_json(rows)
        return
    print_table(
        "Event catalogue",
        ["name", "about", "meaning"],
        [(r["name"], r["object_type"], r["meaning"]) for r in rows],
    )


def _set(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if v is not None}
