"""Monitors of a deployment: create, read, change, enable, run now; metric points over time.

Every change is one audited transaction (``monitor.created``, ``monitor.updated``).
A spec change is validated as a whole before anything is written, and moving the
schedule moves the next run to one new interval from now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.monitoring.families.registry import parse_spec, with_changes
from modelsteward.monitoring.runner import run_monitor
from modelsteward.monitoring.tables import MetricPoint, Monitor, MonitorRun
from modelsteward.monitoring.views import MonitorView, PointView, RunResult
from modelsteward.names import check_name
from modelsteward.store.tables import Deployment

MAX_POINTS = 50_000
MAX_RUNS = 1_000


def _deployment_id(session: Session, name: str) -> int:
    check_name(name, what="deployment name")
    found = session.scalar(select(Deployment.id).where(Deployment.name == name))
    if found is None:
        raise NotFound(f"deployment {name!r} not found")
    return found


def _monitor(session: Session, monitor_id: int, *, for_update: bool = False) -> tuple[Monitor, str]:
    query = (
        select(Monitor, Deployment.name)
        .join(Deployment, Deployment.id == Monitor.deployment_id)
        .where(Monitor.id == monitor_id)
    )
    if for_update:
        query = query.with_for_update(of=Monitor)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f"monitor {monitor_id} not found")
    return row[0], row[1]


def create_monitor(
    steward: Steward, actor: str, deployment: str, name: str, spec: dict[str, Any]
) -> MonitorView:
    parsed = parse_spec(spec)
    check_name(name, what="monitor name")
    if len(name) > 64:
        raise InvalidInput("a monitor name has at most 64 characters")
    now = datetime.now(UTC)
    try:
        with steward.change(actor) as change:
            deployment_id = _deployment_id(change.session, deployment)
            row = Monitor(
                deployment_id=deployment_id,
                name=name,
                type=parsed.type,
                spec=parsed.model_dump(mode="json"),
                interval_s=parsed.interval_s,
                enabled=True,
                next_run_at=now + timedelta(seconds=parsed.interval_s),
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            change.session.add(row)
            change.session.flush()
            change.record(
                "monitor.created",
                "monitor",
                row.id,
                after={"deployment": deployment, "name": name, "spec": row.spec},
            )
            return MonitorView.of(row, deployment)
    except IntegrityError:
        raise Conflict(f"{deployment!r} already has a monitor named {name!r}") from None


def list_monitors(steward: Steward, deployment: str) -> list[MonitorView]:
    with steward.db.read() as session:
        deployment_id = _deployment_id(session, deployment)
        rows = session.scalars(
            select(Monitor).where(Monitor.deployment_id == deployment_id).order_by(Monitor.id)
        )
        return [MonitorView.of(row, deployment) for row in rows]


def get_monitor(steward: Steward, monitor_id: int) -> MonitorView:
    with steward.db.read() as session:
        row, deployment = _monitor(session, monitor_id)
        return MonitorView.of(row, deployment)


def update_monitor(
    steward: Steward,
    actor: str,
    monitor_id: int,
    *,
    spec: dict[str, Any] | None = None,
    enabled: bool | None = None,
) -> MonitorView:
    """Change top-level spec fields (``window``, ``thresholds``...) and/or switch it on or off."""
    if spec is None and enabled is None:
        raise InvalidInput("nothing to change: give spec fields or enabled")
    with steward.change(actor) as change:
        row, deployment = _monitor(change.session, monitor_id, for_update=True)
        before = {"spec": row.spec, "enabled": row.enabled}
        now = datetime.now(UTC)
        if spec is not None:
            updated = with_changes(parse_spec(row.spec), spec)
            if updated.interval_s != row.interval_s:
                row.next_run_at = now + timedelta(seconds=updated.interval_s)
            row.spec, row.interval_s = updated.model_dump(mode="json"), updated.interval_s
        if enabled is not None:
            if enabled and not row.enabled:
                row.next_run_at = now + timedelta(seconds=row.interval_s)
            row.enabled = enabled
        row.updated_at = now
        change.record(
            "monitor.updated",
            "monitor",
            row.id,
            before=before,
            after={"deployment": deployment, "spec": row.spec, "enabled": row.enabled},
        )
        return MonitorView.of(row, deployment)


def run_now(steward: Steward, monitor_id: int) -> RunResult:
    get_monitor(steward, monitor_id)  # 404 before any work
    return run_monitor(steward, monitor_id, trigger="manual")


def list_runs(steward: Steward, monitor_id: int, limit: int = 50) -> list[RunResult]:
    if not 1 <= limit <= MAX_RUNS:
        raise InvalidInput(f"limit must be between 1 and {MAX_RUNS}")
    with steward.db.read() as session:
        monitor, deployment = _monitor(session, monitor_id)
        rows = session.scalars(
            select(MonitorRun)
            .where(MonitorRun.monitor_id == monitor_id)
            .order_by(MonitorRun.id.desc())
            .limit(limit)
        )
        return [RunResult.of(row, deployment, monitor.name) for row in rows]


def metric_points(
    steward: Steward,
    deployment: str,
    *,
    metric: str | None = None,
    column: str | None = None,
    segment: str | None = None,
    monitor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10_000,
) -> list[PointView]:
    """Stored points of a deployment's monitors, oldest first (the newest ``limit``)."""
    if not 1 <= limit <= MAX_POINTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_POINTS}")
    for when, what in ((since, "since"), (until, "until")):
        if when is not None and when.tzinfo is None:
            raise InvalidInput(f"'{what}' must carry a time zone")
    with steward.db.read() as session:
        deployment_id = _deployment_id(session, deployment)
        query = (
            select(MetricPoint, Monitor.name)
            .join(Monitor, Monitor.id == MetricPoint.monitor_id)
            .where(Monitor.deployment_id == deployment_id)
        )
        if metric is not None:
            query = query.where(MetricPoint.metric == metric)
        if column is not None:
            query = query.where(MetricPoint.column_name == column)
        if segment is not None:
            query = query.where(MetricPoint.segment == segment)
        if monitor is not None:
            query = query.where(Monitor.name == monitor)
        if since is not None:
            query = query.where(MetricPoint.window_end >= since)
        if until is not None:
            query = query.where(MetricPoint.window_end < until)
        rows = session.execute(query.order_by(MetricPoint.id.desc()).limit(limit)).all()
    return [PointView.of(point, name) for point, name in reversed(rows)]
