"""``steward channels ...`` and ``steward notifications ...``: where alerts go, and the
delivery log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_json, print_table
from modelsteward.errors import InvalidInput

channels = typer.Typer(help="Notification channels: add, list, test, remove.", no_args_is_help=True)
notifications = typer.Typer(
    help="The notification delivery log: list, show, send again.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _setting(pair: str) -> tuple[str, Any]:
    key, sep, raw = pair.partition("=")
    if not sep or not key.strip():
        raise InvalidInput(f"--set takes KEY=VALUE, not {pair[:60]!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def spec_of(
    name: str | None,
    file: Path | None,
    kind: str | None,
    url: str | None,
    settings: list[str],
    severity: list[str],
    match: list[str],
    model: list[str],
    group_wait: float | None,
    disabled: bool,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cannot read {file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{file} must hold one channel (a mapping)")
        spec = loaded
    if name is not None:
        spec["name"] = name
    if kind is not None:
        spec["kind"] = kind
    config = dict(spec.get("config") or {})
    if url is not None:
        config["url"] = url
    config.update(_setting(s) for s in settings)
    spec["config"] = config
    routing = dict(spec.get("routing") or {})
    for key, values in (("severities", severity), ("matchers", match), ("models", model)):
        if values:
            routing[key] = values
    spec["routing"] = routing
    if group_wait is not None:
        spec["group_wait_s"] = group_wait
    if disabled:
        spec["enabled"] = False
    return spec


@channels.command("add")
def add(
    name: Annotated[str | None, typer.Argument(help="The channel's name (or in --file).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="A YAML channel.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="webhook, slack, teams, email, change_request or alertmanager."),
    ] = None,
    url: Annotated[str | None, typer.Option(help="The receiver's URL.")] = None,
    settings: Annotated[
        list[str], typer.Option("--set", help="Another setting, KEY=VALUE (e.g. port=2525).")
    ] = [],  # noqa: B006 (typer reads the default)
    severity: Annotated[list[str], typer.Option(help="Only these severities.")] = [],  # noqa: B006
    match: Annotated[list[str], typer.Option(help="A label matcher, e.g. team=risk.")] = [],  # noqa: B006
    model: Annotated[list[str], typer.Option(help="Only these models.")] = [],  # noqa: B006
    group_wait: Annotated[float | None, typer.Option(help="Seconds to group alerts.")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a channel from flags or a YAML file (flags override the file)."""
    spec = spec_of(name, file, kind, url, settings, severity, match, model, group_wait, disabled)
    with client() as c:
        created = c._call("POST", "/api/v1/channels", json=spec)
    if as_json:
        print_json(created)
        return
    console.print(f"channel {created['name']} ({created['kind']}) added")
    for key, value in (created.get("generated_secrets") or {}).items():
        console.print(f"its {key}, shown this once: {value}", highlight=False, soft_wrap=True)


@channels.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """Every channel, its routing and whether it is on (secrets are never shown)."""
    with client() as c:
        rows = c._call("GET", "/api/v1/channels")
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no channels yet: add one with 'steward channels add'")
        return
    print_table(
        "Channels",
        ["name", "kind", "enabled", "routing", "group wait s"],
        [
            (r["name"], r["kind"], r["enabled"], json.dumps(r["routing"]), r["group_wait_s"])
            for r in rows
        ],
    )


@channels.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The channel's name.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the rendered message; send nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Send a sample notification through a channel and print what the receiver said."""
    if dry_run:
        preview(name, as_json)
        return
    with client() as c:
        result = c._call("POST", f"/api/v1/channels/{name}/test")
    if as_json:
        print_json(result)
    elif result["ok"]:
        console.print(
            f"sent to {name}: {result['status_code']} in {result['latency_ms']} ms", highlight=False
        )
    else:
        console.print(f"[red]not delivered[/red] to {name}: {result['error']}", highlight=False)
    if not result["ok"]:
        raise typer.Exit(1)


@channels.command("preview")
def preview(
    name: Annotated[str, typer.Argument(help="The channel's name.")], as_json: JsonFlag = False
) -> None:
    """Print a sample notification as this channel would send it, without sending."""
    with client() as c:
        shown = c._call("GET", f"/api/v1/channels/{name}/preview")
    if as_json:
        print_json(shown)
        return
    console.print(f"subject: {shown['subject']}", highlight=False, markup=False)
    if shown["template_error"]:
        console.print(f"template error: {shown['template_error']}", markup=False)
    console.print(json.dumps(shown["request"], indent=2, default=str), markup=False)


@channels.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The channel's name.")]) -> None:
    """Remove a channel with its delivery log (the audit trail keeps every outcome)."""
    with client() as c:
        c._call("DELETE", f"/api/v1/channels/{name}")
    console.print(f"channel {name} removed")


@notifications.command("list")
def list_notifications(
    status: Annotated[
        str | None, typer.Option(help="pending, delivered, failed or suppressed.")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel's.")] = None,
    limit: Annotated[int, typer.Option(help="How many rows at most (1-1000).")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Notifications, newest first, with their status and last error."""
    params = {
        k: v
        for k, v in {"status": status, "channel": channel, "limit": limit}.items()
        if v is not None
    }
    with client() as c:
        rows = c._call("GET", "/api/v1/notifications", params=params)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no notifications")
        return
    print_table(
        "Notifications",
        ["id", "status", "channel", "event", "alert", "rule", "model", "attempts", "last error"],
        [
            (
                r["id"],
                r["status"],
                r["channel"],
                r["event"],
                r["alert_id"],
                r["rule"],
                r["model"],
                r["attempts"],
                (r["last_error"] or r["suppressed_by"] or "")[:100],
            )
            for r in rows
        ],
    )


@notifications.command("show")
def show(
    notification_id: Annotated[int, typer.Argument(metavar="ID")], as_json: JsonFlag = False
) -> None:
    """One notification with each delivery attempt."""
    with client() as c:
        row = c._call("GET", f"/api/v1/notifications/{notification_id}")
    if as_json:
        print_json(row)
        return
    console.print(
        f"notification {row['id']}: {row['status']} to {row['channel']} ({row['kind']}), "
        f"{row['event']} of alert {row['alert_id']}, message {row['message_id']}",
        highlight=False,
    )
    if row["template_error"]:
        console.print(f"template error: {row['template_error']}", markup=False)
    print_table(
        "Attempts",
        ["started", "status code", "latency ms", "error"],
        [
            (a["started_at"], a["status_code"], a["latency_ms"], a["error"][:100])
            for a in row["attempts_log"]
        ],
    )


@notifications.command("retry")
def retry(notification_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Send a failed (or delivered) notification again, with the same message id."""
    with client() as c:
        done = c._call("POST", f"/api/v1/notifications/{notification_id}/retry")
    console.print(f"notification {notification_id}: {done['queued']} queued again")
