"""Tables of the outbox: committed events, each subscriber's cursor, and the deliveries
that failed and wait for a retry (or were dead-lettered)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsteward.store.tables import Base, BigId, utcnow


class OutboxEvent(Base):
    """One committed event; ``id`` is its place in commit order (see ``outbox``)."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(128))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_events_name", "name"), {"sqlite_autoincrement": True})


class EventCursor(Base):
    """How far one subscriber has handled the outbox, and who holds it (a lease)."""

    __tablename__ = "event_cursors"
    subscriber: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventDelivery(Base):
    """A delivery that did not succeed at once: retried with backoff, then dead-lettered.

    ``state`` is ``pending`` (a retry is due at ``next_attempt_at``), ``failed`` (dead
    letter: ``steward events retry`` sends it again) or ``delivered`` (a retry succeeded).
    """

    __tablename__ = "event_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscriber: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    object_key: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("uq_event_delivery", "subscriber", "event_id", unique=True),
        Index("ix_event_deliveries_due", "state", "next_attempt_at"),
        Index("ix_event_deliveries_object", "subscriber", "object_key", "state"),
    )
