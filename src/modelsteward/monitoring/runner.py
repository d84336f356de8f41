"""Running monitors: read the window, compute the family's metrics, store the outcome.

``run_monitor`` never raises for a bad window: an empty or tiny window is stored as
"not enough data", an error as a "failed" run with its message; storing the run, its
points and the breach and recovery events is ``outcomes.py``'s. ``run_due_monitors``
claims each due slot with a compare-and-set on ``next_run_at``, so many processes run
each slot once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import NotFound
from modelsteward.monitoring import distributed
from modelsteward.monitoring.builtin_points import drift_points, quality_points, rate_band
from modelsteward.monitoring.drift import compare
from modelsteward.monitoring.families import FAMILIES, FamilyContext
from modelsteward.monitoring.operations import operations
from modelsteward.monitoring.outcomes import Evaluation, store_outcome
from modelsteward.monitoring.performance import (
    judged,
    window_performance,
)
from modelsteward.monitoring.resources import resource_usage
from modelsteward.monitoring.segments import dominant_version, segments
from modelsteward.monitoring.specs import (
    DEFAULT_THRESHOLDS,
    DriftSpec,
    MonitorSpec,
    PerformanceSpec,
    parse_spec,
)
from modelsteward.monitoring.tables import Monitor
from modelsteward.monitoring.views import RunResult
from modelsteward.monitoring.windows import PredictionWindow, read_window
from modelsteward.profiles.dataset import DatasetProfile, profile_dataset
from modelsteward.store.tables import Deployment, ModelVersion, as_utc

__all__ = [  # older import sites read these from here
    "dominant_version",
    "drift_points",
    "quality_points",
    "rate_band",
    "run_due_monitors",
    "run_monitor",
    "segments",
]
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


def _version(session: Session, model_id: int, number: int | None) -> ModelVersion | None:
    if number is None:
        return None
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_id == model_id, ModelVersion.version == number
        )
    )


def evaluate(
    steward: Steward,
    monitor: Monitor,
    deployment: str,
    model_id: int,
    spec: MonitorSpec,
    now: datetime,
) -> Evaluation:
    """The family's points over the monitor's window (no writes)."""
    family = FAMILIES.get(spec.type)
    if family is not None:
        context = FamilyContext(steward, monitor, deployment, model_id, now)
        outcome = family.evaluate(spec, context)
        return Evaluation(
            outcome.status,
            outcome.rows,
            outcome.start,
            outcome.points,
            outcome.detail,
            outcome.baseline,
            outcome.version,
        )
    logs = steward.settings.logs_url
    hours, last = spec.window.hours, spec.window.last
    if spec.type == "operations":
        estimates, requests, start = operations(
            logs, deployment, now=now, hours=hours, last=last, route=spec.route
        )
        if requests < spec.min_rows:
            return _too_small(requests, spec, start)
        estimates |= resource_usage(logs, start, now)
        points = judged(estimates, spec, "", DEFAULT_THRESHOLDS["operations"])
        return Evaluation("ok", requests, start, points)
    if isinstance(spec, DriftSpec):
        in_parts = _in_parts(steward, monitor, deployment, model_id, spec, now)
        if in_parts is not None:
            return in_parts
    window = read_window(
        logs,
        deployment,
        route=spec.route,
        labels=spec.type == "performance",
        max_rows=spec.max_rows,
        now=now,
        hours=hours,
        last=last,
    )
    if window.rows < spec.min_rows:
        return _too_small(window.rows, spec, window.start)
    number = dominant_version(window)
    with steward.db.read() as session:
        version = _version(session, model_id, number)
    detail: dict[str, Any] = {"sampled": window.sampled, "total_rows": window.total_rows}
    result = Evaluation("ok", window.rows, window.start, detail=detail, version=number)
    if isinstance(spec, PerformanceSpec):
        registered = version.metrics if version is not None else {}
        for segment, part in segments(window, spec.segment_by):
            result.points += window_performance(spec, part, registered, segment)
        return result
    profile, source = _reference(spec, version, monitor.baseline)
    if profile is None:
        result.baseline = _captured(spec, window, number, now)
        detail["baseline"] = "captured from this window; later runs compare with it"
        return result
    detail["baseline"] = source
    for segment, part in segments(window, spec.segment_by):
        data = part.outputs if spec.type == "prediction_drift" else part.inputs
        if isinstance(spec, DriftSpec):
            result.points += drift_points(compare(profile, data, spec.drift_config()), segment)
        else:
            result.points += quality_points(spec, profile, data, segment)
    return result


def _in_parts(
    steward: Steward,
    monitor: Monitor,
    deployment: str,
    model_id: int,
    spec: DriftSpec,
    now: datetime,
) -> Evaluation | None:
    """A big window summarised on Dask (``STEWARD_DASK_ADDRESS``); None: read it here."""

    def reference_for(number: int | None) -> tuple[DatasetProfile | None, str]:
        with steward.db.read() as session:
            return _reference(spec, _version(session, model_id, number), monitor.baseline)

    found = distributed.window_drift(steward.settings, deployment, spec, now, reference_for)
    if found is None:
        return None
    if found.rows < spec.min_rows:
        return _too_small(found.rows, spec, found.start)
    result = Evaluation("ok", found.rows, found.start, detail=found.detail, version=found.version)
    for segment, drift in found.results:
        result.points += drift_points(drift, segment)
    return result


def _reference(
    spec: MonitorSpec, version: ModelVersion | None, baseline: dict[str, Any] | None
) -> tuple[DatasetProfile | None, str]:
    """The profile to compare with, and where it came from (see docs/monitoring.md)."""
    if baseline and baseline.get("pinned") and isinstance(baseline.get("profile"), dict):
        return DatasetProfile.from_dict(baseline["profile"]), str(baseline.get("source", ""))
    if version is not None and spec.type == "prediction_drift":
        stored = (version.meta or {}).get("prediction_profile")
        if isinstance(stored, dict):
            return DatasetProfile.from_dict(stored), f"training predictions of v{version.version}"
    elif version is not None:
        stored = (version.training_data or {}).get("profile")
        if isinstance(stored, dict):
            profile = DatasetProfile.from_dict(stored)
            features = [c["name"] for c in (version.input_schema or {}).get("columns", [])]
            if features:  # the training data may hold the target too: keep the features
                kept = {n: c for n, c in profile.columns.items() if n in features}
                profile = DatasetProfile(profile.rows, kept)
            return profile, f"training data of v{version.version}"
    number = version.version if version is not None else None
    if baseline and baseline.get("version") == number and isinstance(baseline.get("profile"), dict):
        return DatasetProfile.from_dict(baseline["profile"]), "first window seen"
    return None, ""


def _captured(
    spec: MonitorSpec, window: PredictionWindow, version: int | None, now: datetime
) -> dict[str, Any]:
    data = window.outputs if spec.type == "prediction_drift" else window.inputs
    return {
        "source": "first window seen",
        "version": version,
        "window_end": now.isoformat(),
        "rows": window.rows,
        "profile": profile_dataset(data).to_dict(),
    }


def _too_small(rows: int, spec: MonitorSpec, start: datetime | None) -> Evaluation:
    note = f"{rows} rows in the window; at least {spec.min_rows} needed"
    return Evaluation("not enough data", rows, start, detail={"note": note})


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
        evaluation = Evaluation("failed", 0, None)
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
