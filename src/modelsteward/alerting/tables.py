"""Tables of alerting: rules, each rule's evaluation state per target, alerts, silences.

A target is one series a rule watches: (deployment, monitor, metric, column, segment).
``alert_states`` keeps what the evaluation needs between monitor runs (the recent
breaches for "M of the last N", the run of ok windows for keep-firing), so a restart
changes nothing. An open alert's ``open_key`` is its rule and target; the unique
constraint on it is the deduplication (resolved alerts set it to NULL, and NULLs are
distinct in SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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


class AlertRule(Base):
    """A frozen rule spec (``alerting.specs.RuleSpec``, validated on every write)."""

    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    origin: Mapped[str] = mapped_column(String(16), default="user")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AlertState(Base):
    """Where one rule's evaluation of one target stands after the latest run it saw."""

    __tablename__ = "alert_states"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(600))
    recent: Mapped[list[bool]] = mapped_column(JSON, default=list)
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    ok_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_run_id: Mapped[int] = mapped_column(BigId, default=0)
    alert_id: Mapped[int | None] = mapped_column(BigId)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("rule_id", "target", name="uq_alert_state_target"),)


class Alert(Base):
    """One episode of a rule firing for a target: firing -> acknowledged -> resolved."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(128))
    open_key: Mapped[str | None] = mapped_column(String(700), unique=True)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(128))
    deployment: Mapped[str] = mapped_column(String(128))
    environment: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)
    monitor: Mapped[str] = mapped_column(String(64))
    monitor_type: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(64))
    column_name: Mapped[str] = mapped_column(String(128), default="")
    segment: Mapped[str] = mapped_column(String(128), default="")
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    window_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    suppressed_by: Mapped[str | None] = mapped_column(String(256))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        Index("ix_alerts_state", "state", "opened_at"),
        Index("ix_alerts_model", "model", "state"),
        Index("ix_alerts_deployment", "deployment", "state"),
        Index("ix_alerts_rule", "rule_id", "state"),
        {"sqlite_autoincrement": True},
    )


class Silence(Base):
    """Label matchers that mute new alerts between ``starts_at`` and ``ends_at``."""

    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expired_by: Mapped[str | None] = mapped_column(String(128))
    __table_args__ = (Index("ix_silences_ends", "ends_at"),)
