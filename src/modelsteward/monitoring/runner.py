"""Running monitors: the spec's family evaluates its window, and the outcome is stored.

``run_monitor`` never raises for a bad window: an empty or tiny window is stored as
"not enough data", an error as a "failed" run with its message; storing the run, its
points and the breach and recovery events is ``outcomes.py``'s. ``run_due_monitors``
claims each due slot with a compare-and-set on ``next_run_at``, so many processes run
each slot once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import NotFound
from modelsteward.monitoring.families.base import FamilyContext, FamilyResult
from modelsteward.monitoring.families.registry import FAMILIES, parse_spec
from modelsteward.monitoring.outcomes import store_outcome
from modelsteward.monitoring.specs import MonitorSpec
from modelsteward.monitoring.tables import Monitor
from modelsteward.monitoring.views import RunResult
from modelsteward.store.tables import Deployment, as_utc

log = logging.getLogger(__name__)
DUE_BATCH = 50


def _target(session: Session, monitor_id: int) -> tuple[Monitor, str, int]:
    row = session.execute(
        select(Monitor, Deployment.name, Deployment.model_id)
        .join(Deployment, Deployment.id == Monitor.deployment_id)
        .where(Monitor.id == monitor_id)
    ).first()
    if row is None:
        raise NotFound(f"monitor {monitor_id} not found")
    return row[0], row[1], row[2]


def evaluate(
    steward: Steward,
    monitor: Monitor,
    deployment: str,
    model_id: int,
    spec: MonitorSpec,
    now: datetime,
) -> FamilyResult:
    """The points of the spec's family over the monitor's window (no writes)."""
    context = FamilyContext(steward, monitor, deployment, model_id, now)
    return FAMILIES[spec.type].evaluate(spec, context)


def run_monitor(
    steward: Steward, monitor_id: int, *, now: datetime | None = None, trigger: str = "manual"
) -> RunResult:
    """Run one monitor now over the window ending at ``now``; store and return the run."""
    started = datetime.now(UTC)
    now = now or started
    with steward.db.read() as session:
        monitor, deployment, model_id = _target(session, monitor_id)
    error = ""
    try:
        spec = parse_spec(monitor.spec)
        evaluation = evaluate(steward, monitor, deployment, model_id, spec, now)
        statuses = {p.status for p in evaluation.points}
        if "breached" in statuses:
            evaluation.status = "breached"
        elif statuses and "ok" not in statuses:
            evaluation.status = "not enough data"
    except Exception as exc:  # a failing run is recorded, never raised into the scheduler
        log.exception("monitor %s of %s failed", monitor_id, deployment)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        evaluation = FamilyResult(0, None, status="failed")
    return store_outcome(steward, monitor_id, deployment, evaluation, started, now, trigger, error)


def next_slot(due: datetime, interval_s: int, now: datetime) -> datetime:
    """The first slot after ``now`` on the monitor's grid (missed slots are skipped)."""
    behind = (now - due).total_seconds()
    steps = int(behind // interval_s) + 1 if behind >= 0 else 1
    return due + timedelta(seconds=steps * interval_s)


def run_due_monitors(steward: Steward, now: datetime | None = None) -> int:
    """Run every enabled monitor whose slot has come; returns how many this process ran."""
    now = now or datetime.now(UTC)
    with steward.db.read() as session:
        due = session.execute(
            select(Monitor.id, Monitor.next_run_at, Monitor.interval_s)
            .where(Monitor.enabled.is_(True), Monitor.next_run_at <= now)
            .order_by(Monitor.next_run_at)
            .limit(DUE_BATCH)
        ).all()
    ran = 0
    for monitor_id, due_at, interval_s in due:
        following = next_slot(as_utc(due_at), interval_s, now)
        with steward.db.write() as session:
            claimed = session.execute(
                update(Monitor)
                .where(
                    Monitor.id == monitor_id,
                    Monitor.next_run_at == due_at,
                    Monitor.enabled.is_(True),
                )
                .values(next_run_at=following)
                .returning(Monitor.id)
            ).first()
        if claimed is not None:
            run_monitor(steward, monitor_id, now=now, trigger="schedule")
            ran += 1
    return ran
