"""A monitor run's outcome, stored: the run, its points, and the events a status change raises.

Every run also publishes ``monitor.ran`` (no audit record: the run is its own record),
which alert rules evaluate. A point whose status turns from ok (or nothing) to breached publishes
``metric.breached``; the reverse ``metric.recovered``, compared with the series'
previous ok/breached point, so "not enough data" in between changes nothing. The run,
its points, the monitor's last status and the events are one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import NotFound
from modelsteward.monitoring.families.base import FamilyResult
from modelsteward.monitoring.tables import MetricPoint, Monitor, MonitorRun
from modelsteward.monitoring.views import PointView, RunResult
from modelsteward.store.tables import Deployment, Model

ACTOR = "system:monitoring"
DECISIVE = ("ok", "breached")


def _previous(
    session: Session, monitor_id: int, series: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """The last ok/breached status of each series (one indexed look-up per series)."""
    found = {}
    for metric, column, segment in series:
        status = session.scalar(
            select(MetricPoint.status)
            .where(
                MetricPoint.monitor_id == monitor_id,
                MetricPoint.metric == metric,
                MetricPoint.column_name == column,
                MetricPoint.segment == segment,
                MetricPoint.status.in_(DECISIVE),
            )
            .order_by(MetricPoint.window_end.desc(), MetricPoint.id.desc())
            .limit(1)
        )
        if status is not None:
            found[(metric, column, segment)] = status
    return found


def store_outcome(
    steward: Steward,
    monitor_id: int,
    deployment: str,
    evaluation: FamilyResult,
    started: datetime,
    now: datetime,
    trigger: str,
    error: str,
) -> RunResult:
    with steward.change(ACTOR) as change:
        session = change.session
        monitor = session.scalar(select(Monitor).where(Monitor.id == monitor_id).with_for_update())
        if monitor is None:
            raise NotFound(f"monitor {monitor_id} not found")
        spec = monitor.spec
        window = spec.get("window", {})
        run = MonitorRun(
            monitor_id=monitor_id,
            window_start=evaluation.start,
            window_end=now,
            window_last=window.get("last"),
            rows=evaluation.rows,
            status=evaluation.status,
            trigger=trigger,
            started_at=started,
            finished_at=datetime.now(UTC),
            error=error,
            detail=evaluation.detail,
        )
        session.add(run)
        session.flush()
        series = {(p.metric, p.column[:128], p.segment) for p in evaluation.points}
        previous = _previous(session, monitor_id, series)
        rows = [
            MetricPoint(
                monitor_id=monitor_id,
                run_id=run.id,
                metric=p.metric,
                column_name=p.column[:128],
                segment=p.segment,
                version=evaluation.version,
                route=spec.get("route") or "",
                window_end=now,
                value=p.value,
                low=p.low,
                high=p.high,
                threshold=p.threshold,
                status=p.status,
                detail=p.detail,
            )
            for p in evaluation.points
        ]
        session.add_all(rows)
        session.flush()
        views = [PointView.of(r, monitor.name) for r in rows]
        model = session.scalar(
            select(Model.name)
            .join(Deployment, Deployment.model_id == Model.id)
            .where(Deployment.id == monitor.deployment_id)
        )
        events = _publish(change, monitor, deployment, model or "", views, previous)
        change.publish(
            "monitor.ran",
            "monitor",
            monitor.id,
            {
                "model": model or "",
                "deployment": deployment,
                "monitor": monitor.name,
                "monitor_id": monitor.id,
                "type": monitor.type,
                "run_id": run.id,
                "status": evaluation.status,
                "rows": evaluation.rows,
                "window_end": now.isoformat(),
            },
        )
        monitor.last_status, monitor.last_run_at = evaluation.status, now
        if evaluation.baseline is not None:
            monitor.baseline = evaluation.baseline
        if rows:
            monitor.points_run_id = run.id
        return RunResult.of(run, deployment, monitor.name, views, events)


def _publish(
    change: Change,
    monitor: Monitor,
    deployment: str,
    model: str,
    points: list[PointView],
    previous: dict[tuple[str, str, str], str],
) -> list[str]:
    events = []
    for point in points:
        before = previous.get((point.metric, point.column, point.segment))
        if point.status == "breached" and before != "breached":
            name = "metric.breached"
        elif point.status == "ok" and before == "breached":
            name = "metric.recovered"
        else:
            continue
        payload = {  # model and version: life cycles react to the version's breach
            "model": model,
            "deployment": deployment,
            "monitor": monitor.name,
            "monitor_id": monitor.id,
            "type": monitor.type,
            **point.model_dump(
                mode="json",
                include={"metric", "column", "segment", "version", "value", "threshold", "run_id"},
            ),
            "low": point.low,
            "high": point.high,
            "window_end": point.window_end.isoformat(),
        }
        change.record(
            name, "monitor", monitor.id, before={"status": before}, after=payload, payload=payload
        )
        events.append(name)
    return events
