"""Tables of the monitoring service: monitors, their runs, and the metric points they store.

A monitor belongs to a deployment and keeps its stored spec (JSON, validated by
``monitoring.specs`` on every read). Each run writes one ``monitor_runs`` row and its
``metric_points`` in one transaction; points are what charts and Prometheus read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from modelsteward.store.tables import Base, BigId, utcnow


class Monitor(Base):
    """One check of a deployment, run on a schedule over a window of its prediction log."""

    __tablename__ = "monitors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    interval_s: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str | None] = mapped_column(String(24))
    # The latest run that stored points: what /metrics exports, found by index.
    points_run_id: Mapped[int | None] = mapped_column(BigId)
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        UniqueConstraint("deployment_id", "name", name="uq_monitor_name"),
        Index("ix_monitors_due", "enabled", "next_run_at"),
    )


class MonitorRun(Base):
    """One evaluation of a monitor over one window."""

    __tablename__ = "monitor_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id"))
    window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_last: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(24))
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    __table_args__ = (Index("ix_monitor_runs_monitor", "monitor_id", "id"),)


class MetricPoint(Base):
    """One value of one metric (per column and segment) at the end of one run's window."""

    __tablename__ = "metric_points"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("monitor_runs.id"))
    metric: Mapped[str] = mapped_column(String(64))
    column_name: Mapped[str] = mapped_column(String(128), default="")
    segment: Mapped[str] = mapped_column(String(128), default="")
    version: Mapped[int | None] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(16), default="")
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    __table_args__ = (
        Index("ix_points_series", "monitor_id", "metric", "column_name", "segment", "window_end"),
        Index("ix_points_run", "run_id"),
        Index("ix_points_metric_time", "metric", "window_end"),
    )
