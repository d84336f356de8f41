"""What the monitoring service returns: plain, serialisable views of monitors, runs and points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from modelsteward.monitoring.tables import MetricPoint, Monitor, MonitorRun
from modelsteward.store.tables import as_utc


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


BULKY = frozenset({"sample", "axes", "center", "scale", "location", "variances"})


class MonitorView(BaseModel):
    id: int
    deployment: str
    name: str
    type: str
    spec: dict[str, Any]
    every_minutes: int
    enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_status: str | None
    baseline: dict[str, Any] | None
    created_by: str
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, row: Monitor, deployment: str) -> MonitorView:
        baseline = None
        if row.baseline:  # the stored profile itself is large; say where it came from
            baseline = {k: v for k, v in row.baseline.items() if k != "profile"}
            fitted = baseline.get("baseline")
            if isinstance(fitted, dict):  # a multivariate fit: its facts, not its sample
                baseline["baseline"] = {k: v for k, v in fitted.items() if k not in BULKY}
        return cls(
            id=row.id,
            deployment=deployment,
            name=row.name,
            type=row.type,
            spec=row.spec,
            every_minutes=row.interval_s // 60,
            enabled=row.enabled,
            next_run_at=_utc(row.next_run_at),
            last_run_at=_utc(row.last_run_at),
            last_status=row.last_status,
            baseline=baseline,
            created_by=row.created_by,
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
        )


class PointView(BaseModel):
    """One stored metric value; ``threshold`` is the bound that decides ``status``."""

    id: int | None = None
    monitor_id: int
    monitor: str = ""
    run_id: int | None = None
    metric: str
    column: str
    segment: str
    version: int | None
    route: str
    window_end: datetime
    value: float | None
    low: float | None
    high: float | None
    threshold: float | None
    status: str
    detail: dict[str, Any] = {}

    @classmethod
    def of(cls, row: MetricPoint, monitor: str = "") -> PointView:
        return cls(
            id=row.id,
            monitor_id=row.monitor_id,
            monitor=monitor,
            run_id=row.run_id,
            metric=row.metric,
            column=row.column_name,
            segment=row.segment,
            version=row.version,
            route=row.route,
            window_end=as_utc(row.window_end),
            value=row.value,
            low=row.low,
            high=row.high,
            threshold=row.threshold,
            status=row.status,
            detail=row.detail or {},
        )


class RunResult(BaseModel):
    """One run of a monitor; ``points`` and ``events`` are filled when the run is returned
    by ``run_monitor`` (the run history lists runs without their points)."""

    id: int
    monitor_id: int
    deployment: str
    monitor: str
    status: str
    trigger: str
    rows: int
    window_start: datetime | None
    window_end: datetime
    window_last: int | None
    started_at: datetime
    finished_at: datetime
    error: str
    detail: dict[str, Any]
    points: list[PointView] = []
    events: list[str] = []

    @classmethod
    def of(
        cls,
        row: MonitorRun,
        deployment: str,
        monitor: str,
        points: list[PointView] | None = None,
        events: list[str] | None = None,
    ) -> RunResult:
        return cls(
            id=row.id,
            monitor_id=row.monitor_id,
            deployment=deployment,
            monitor=monitor,
            status=row.status,
            trigger=row.trigger,
            rows=row.rows,
            window_start=_utc(row.window_start),
            window_end=as_utc(row.window_end),
            window_last=row.window_last,
            started_at=as_utc(row.started_at),
            finished_at=as_utc(row.finished_at),
            error=row.error,
            detail=row.detail or {},
            points=points or [],
            events=events or [],
        )
