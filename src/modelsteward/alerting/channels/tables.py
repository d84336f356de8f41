"""Tables of the channels: their settings, one notification per (event, channel), and
every delivery attempt of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
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


class Channel(Base):
    """Where notifications go. ``config`` holds the kind's settings, secrets included
    (they are needed to sign and to log in, so they cannot be hashed); the service
    never shows them back."""

    __tablename__ = "channels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    routing: Mapped[dict[str, Any]] = mapped_column(default=dict)
    template: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group_wait_s: Mapped[float] = mapped_column(Float, default=0.0)
    timeout_s: Mapped[float] = mapped_column(Float, default=10.0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """One alert event for one channel. ``status``: ``pending`` (due at
    ``next_attempt_at``), ``delivered``, ``failed`` (dead letter) or ``suppressed``.

    Rows of one ``group_key`` (channel, rule and model) created within the channel's
    group wait share a ``batch``: they go out as one message, whose id (the signed
    ``webhook-id``) is the batch, so a receiver deduplicates redeliveries by it.
    ``claimed_until`` is the lease of the process sending it: one that dies mid-send
    leaves a claim that runs out, and the batch is sent again.
    """

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(128))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    alert_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group_key: Mapped[str] = mapped_column(String(300))
    batch: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    template_error: Mapped[str] = mapped_column(Text, default="")
    suppressed_by: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event_id", "channel_id", name="uq_notification_event_channel"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_batch", "batch"),
        Index("ix_notifications_group", "channel_id", "group_key", "status"),
        {"sqlite_autoincrement": True},
    )


class NotificationAttempt(Base):
    """One try at sending a notification's batch. ``finished_at`` is None while it is
    under way; one left so by a process that died is marked interrupted."""

    __tablename__ = "notification_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    latency_ms: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_notification_attempts_of", "notification_id"),)
