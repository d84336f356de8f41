"""The delivery log: notifications with their attempts, and sending one again by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from modelsteward.alerting.channels.tables import Channel, Notification, NotificationAttempt
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.store.tables import as_utc

if TYPE_CHECKING:
    from modelsteward.context import Steward

STATUSES = ("pending", "delivered", "failed", "suppressed")
MAX_LIMIT = 1000


def _when(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def view(row: Notification, channel: str, kind: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "channel": channel,
        "kind": kind,
        "event": row.event,
        "event_id": row.event_id,
        "alert_id": row.alert_id,
        "rule": row.payload.get("rule"),
        "model": row.payload.get("model"),
        "severity": row.payload.get("severity"),
        "message_id": row.batch,
        "attempts": row.attempts,
        "next_attempt_at": _when(row.next_attempt_at) if row.status == "pending" else None,
        "last_error": row.last_error,
        "template_error": row.template_error,
        "suppressed_by": row.suppressed_by,
        "created_at": _when(row.created_at),
        "delivered_at": _when(row.delivered_at),
    }


def list_notifications(
    steward: Steward,
    status: str | None = None,
    channel: str | None = None,
    alert_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest notifications first, optionally of one status, channel or alert."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {status[:20]!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIMIT}")
    query = (
        select(Notification, Channel.name, Channel.kind)
        .join(Channel, Channel.id == Notification.channel_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Notification.status == status)
    if channel is not None:
        query = query.where(Channel.name == channel)
    if alert_id is not None:
        query = query.where(Notification.alert_id == alert_id)
    with steward.db.read() as session:
        return [view(row, name, kind) for row, name, kind in session.execute(query)]


def show_notification(steward: Steward, notification_id: int) -> dict[str, Any]:
    """One notification with every attempt, oldest first, and the alert it is about."""
    with steward.db.read() as session:
        found = session.execute(
            select(Notification, Channel.name, Channel.kind)
            .join(Channel, Channel.id == Notification.channel_id)
            .where(Notification.id == notification_id)
        ).first()
        if found is None:
            raise NotFound(f"no notification {notification_id}")
        row, name, kind = found
        attempts = session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == row.id)
            .order_by(NotificationAttempt.id)
        ).all()
        return {
            **view(row, name, kind),
            "alert": row.payload,
            "attempts_log": [
                {
                    "started_at": _when(a.started_at),
                    "finished_at": _when(a.finished_at),
                    "status_code": a.status_code,
                    "error": a.error,
                    "latency_ms": a.latency_ms,
                }
                for a in attempts
            ],
        }


def retry_notification(steward: Steward, actor: str, notification_id: int) -> dict[str, Any]:
    """Queue a failed (or delivered) notification again, with the rest of its message:
    it gets a fresh set of attempts and keeps its message id, so a receiver that had it
    can tell."""
    now = datetime.now(UTC)
    with steward.change(actor) as change:
        session = change.session
        row = session.get(Notification, notification_id)
        if row is None:
            raise NotFound(f"no notification {notification_id}")
        if row.status not in ("failed", "delivered"):
            raise Conflict(
                f"notification {notification_id} is {row.status}; only a failed or delivered "
                "one can be sent again"
            )
        channel = session.get(Channel, row.channel_id)
        if channel is None:  # the foreign key cascades, so only a race gets here
            raise NotFound(f"notification {notification_id} has no channel any more")
        previous = row.status
        batch = session.scalars(
            select(Notification).where(
                Notification.batch == row.batch, Notification.status == previous
            )
        ).all()
        session.execute(
            update(Notification)
            .where(Notification.id.in_([r.id for r in batch]))
            .values(
                status="pending",
                attempts=0,
                next_attempt_at=now,
                claimed_until=None,
                delivered_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        for member in batch:
            change.record(
                "notification.retried",
                "notification",
                member.id,
                payload={"channel": channel.name, "previous_status": previous},
            )
    steward.doorbell.set()
    return {"id": notification_id, "queued": len(batch), "message_id": row.batch}
