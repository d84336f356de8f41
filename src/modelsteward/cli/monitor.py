"""``steward monitors ...`` and ``steward metrics``: what watches a deployment, and its numbers."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_fields, print_json, print_table
from modelsteward.errors import InvalidInput

monitors = typer.Typer(
    help="Monitors: list, show, run now, update, enable, disable.", no_args_is_help=True
)

RECORDED_SCAN = 50_000  # newest points read to learn which metrics a deployment records
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _band(point: dict[str, Any]) -> str:
    low, high = point.get("low"), point.get("high")
    return "" if low is None or high is None else f"[{_number(low)}, {_number(high)}]"


def _hours(hours: float) -> str:
    """1 -> "1h", 168 -> "7d", 0.5 -> "30m": as people write durations."""
    minutes = round(hours * 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def window_text(window: dict[str, Any], every_minutes: int) -> str:
    """A monitor's window and schedule in words: "1h every 15m", "last 5000 every 1h"."""
    if window.get("hours") is not None:
        span = _hours(float(window["hours"]))
    else:
        span = f"last {window.get('last')} predictions"
    return f"{span} every {_hours(every_minutes / 60)}"


def _points_table(title: str | None, points: list[dict[str, Any]], with_time: bool) -> None:
    columns = ["metric", "column", "segment", "value", "band", "threshold", "status"]
    rows = [
        [
            *([p["window_end"][:19], p["monitor"]] if with_time else []),
            p["metric"],
            p["column"],
            p["segment"],
            _number(p["value"]),
            _band(p),
            _number(p["threshold"]),
            p["status"],
        ]
        for p in points
    ]
    print_table(title, (["window end", "monitor"] if with_time else []) + columns, rows)


@monitors.command("list")
def list_(deployment: str, as_json: JsonFlag = False) -> None:
    """The monitors of a deployment."""
    with client() as c:
        found = c._call("GET", f"/api/v1/deployments/{deployment}/monitors")
    if as_json:
        print_json(found)
        return
    rows = [
        [
            m["id"],
            m["name"],
            m["type"],
            window_text(m["spec"]["window"], m["every_minutes"]),
            "yes" if m["enabled"] else "no",
            m["last_status"] or "",
            (m["last_run_at"] or "")[:19],
        ]
        for m in found
    ]
    columns = ["id", "name", "type", "window", "enabled", "last status", "last run"]
    print_table(f"monitors of {deployment}", columns, rows, empty=f"no monitors on {deployment}")


@monitors.command("show")
def show(monitor_id: int, as_json: JsonFlag = False) -> None:
    """A monitor's spec, schedule and latest runs."""
    with client() as c:
        monitor = c._call("GET", f"/api/v1/monitors/{monitor_id}")
        runs = c._call("GET", f"/api/v1/monitors/{monitor_id}/runs", params={"limit": 10})
    if as_json:
        print_json(monitor | {"runs": runs})
        return
    print_fields(
        f"monitor {monitor['id']}: {monitor['name']}",
        [(k, monitor[k]) for k in ("deployment", "type", "enabled", "every_minutes", "spec")]
        + [(k, monitor[k]) for k in ("next_run_at", "last_run_at", "last_status", "baseline")],
    )
    rows = [
        [r["id"], r["window_end"][:19], r["trigger"], r["rows"], r["status"], r["error"][:80]]
        for r in runs
    ]
    print_table("latest runs", ["run", "window end", "trigger", "rows", "status", "error"], rows)


@monitors.command("run")
def run(monitor_id: int, as_json: JsonFlag = False) -> None:
    """Run a monitor now over the window ending now; print its points."""
    with client() as c:
        result = c._call("POST", f"/api/v1/monitors/{monitor_id}/run")
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result['deployment']} / {result['monitor']}: {result['status']} "
        f"({result['rows']} rows){' ' + result['error'] if result['error'] else ''}",
        highlight=False,
    )
    if result["points"]:
        _points_table(None, result["points"], with_time=False)
    for event in result["events"]:
        console.print(f"  event: {event}", highlight=False)


@monitors.command("update")
def update(
    monitor_id: int,
    spec: Annotated[
        str,
        typer.Option(help='Spec fields to replace, as JSON: \'{"window": {"last": 5000}}\''),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Replace top-level fields of a monitor's spec (window, thresholds, methods...)."""
    try:
        changes = json.loads(spec)
    except ValueError:
        raise InvalidInput("--spec must be a JSON object") from None
    if not isinstance(changes, dict):
        raise InvalidInput("--spec must be a JSON object")
    with client() as c:
        monitor = c._call("PATCH", f"/api/v1/monitors/{monitor_id}", json={"spec": changes})
    if as_json:
        print_json(monitor)
    else:
        console.print(f"monitor {monitor['id']} ({monitor['name']}) updated", highlight=False)


@monitors.command("baseline")
def baseline(
    monitor_id: int,
    hours: Annotated[float | None, typer.Option(help="Pin the last H hours of the log.")] = None,
    last: Annotated[int | None, typer.Option(help="Pin the last N predictions.")] = None,
    end: Annotated[
        str | None, typer.Option(help="Window end, ISO-8601 with a time zone (default now).")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Forget the kept baseline.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Pin a monitor's baseline to a window of the log, or clear it (--clear)."""
    if clear == (hours is not None or last is not None):
        raise InvalidInput("give --hours or --last to pin a window, or --clear")
    with client() as c:
        if clear:
            monitor = c._call("DELETE", f"/api/v1/monitors/{monitor_id}/baseline")
        else:
            window = {"hours": hours} if hours is not None else {"last": last}
            body: dict[str, Any] = {"window": window} | ({"end": end} if end else {})
            monitor = c._call("PUT", f"/api/v1/monitors/{monitor_id}/baseline", json=body)
    if as_json:
        print_json(monitor)
        return
    kept = monitor.get("baseline") or {}
    what = kept.get("source") or "none kept: the version's training data"
    console.print(f"monitor {monitor['id']} ({monitor['name']}) baseline: {what}", highlight=False)


def _switch(monitor_id: int, enabled: bool) -> None:
    with client() as c:
        monitor = c._call("PATCH", f"/api/v1/monitors/{monitor_id}", json={"enabled": enabled})
    console.print(
        f"monitor {monitor['id']} ({monitor['name']}) {'enabled' if enabled else 'disabled'}"
    )


@monitors.command("enable")
def enable(monitor_id: int) -> None:
    """Run a monitor on its schedule again."""
    _switch(monitor_id, True)


@monitors.command("disable")
def disable(monitor_id: int) -> None:
    """Stop running a monitor on its schedule (its points stay)."""
    _switch(monitor_id, False)


def metrics(
    deployment: str,
    metric: Annotated[str | None, typer.Option(help="Only this metric, e.g. drift_score.")] = None,
    column: Annotated[str | None, typer.Option(help="Only this column.")] = None,
    segment: Annotated[
        str | None, typer.Option(help="Only this segment, e.g. sex=F (see segment_by).")
    ] = None,
    monitor: Annotated[str | None, typer.Option(help="Only this monitor (by name).")] = None,
    since: Annotated[
        str | None, typer.Option(help="ISO time with zone, e.g. 2024-05-01T00:00Z")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many newest points.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Metric points of a deployment's monitors over time, oldest first."""
    params: dict[str, Any] = {"limit": limit}
    for key, value in (
        ("metric", metric),
        ("column", column),
        ("segment", segment),
        ("monitor", monitor),
        ("since", since),
    ):
        if value is not None:
            params[key] = value
    with client() as c:
        points = c._call("GET", f"/api/v1/deployments/{deployment}/metrics", params=params)
        if not points and metric is not None:
            _known_metric(c, deployment, metric)
    if as_json:
        print_json(points)
        return
    if not points:
        console.print(f"no metric points of {deployment} match", highlight=False)
        return
    _points_table(f"metrics of {deployment}", points, with_time=True)


def _known_metric(c: Any, deployment: str, metric: str) -> None:
    """A metric the deployment's monitors never recorded is a mistake: name the real ones."""
    recorded = c._call(
        "GET", f"/api/v1/deployments/{deployment}/metrics", params={"limit": RECORDED_SCAN}
    )
    names = sorted({p["metric"] for p in recorded})
    if metric in names:
        return
    if not names:
        raise InvalidInput(f"no metric {metric!r}: the monitors of {deployment} recorded none yet")
    raise InvalidInput(
        f"no metric {metric!r} on {deployment}; its monitors record: {', '.join(names)}"
    )
