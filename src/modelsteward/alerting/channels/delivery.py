"""Delivering notifications: claim a due batch, send it once, record the attempt.

A batch is claimed in one transaction (a lease, ``claimed_until``, and an attempt row
per notification, ``finished_at`` empty); the message is sent outside any transaction;
the outcome is written in a second one. A process killed in between leaves a claim
that runs out and an attempt never finished: the next claim marks that attempt
interrupted and sends the batch again, with the same message id. So an accepted
notification is delivered or visibly failed, never lost, at least once.

Retries back off from ``STEWARD_EVENTS_RETRY_SECONDS`` (doubling, at most 5 minutes),
or wait what a 429's ``Retry-After`` asks; a refusal that cannot change (a 4xx, a
redirect, an address the SSRF guard refuses, an SMTP 5xx) fails at once; after the
channel's ``max_attempts`` the notification is dead-lettered (``failed``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from modelsteward.alerting.channels.kinds import KINDS, ChannelKind, Message
from modelsteward.alerting.channels.outbound import Outcome, Sending
from modelsteward.alerting.channels.tables import Channel, Notification, NotificationAttempt
from modelsteward.alerting.channels.templates import TemplateSpec, context_of, render
from modelsteward.store.tables import as_utc

if TYPE_CHECKING:
    from modelsteward.context import Change, Steward

log = logging.getLogger(__name__)
ACTOR = "system:notifications"
MAX_BACKOFF_S = 300.0
LEASE_MARGIN_S = 15.0
INTERRUPTED = "interrupted: the process sending it stopped before recording an answer"


def backoff_s(attempts: int, base_s: float) -> float:
    return min(base_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)


def due_batches(steward: Steward, now: datetime, limit: int = 100) -> list[str]:
    query = (
        select(Notification.batch)
        .where(
            Notification.status == "pending",
            Notification.next_attempt_at <= now,
            (Notification.claimed_until.is_(None)) | (Notification.claimed_until < now),
        )
        .group_by(Notification.batch)
        .order_by(Notification.batch)
        .limit(limit)
    )
    with steward.db.query() as conn:
        return list(conn.scalars(query))


def deliver_due(
    steward: Steward,
    now: datetime | None = None,
    batches: Iterable[str] | None = None,
    budget_s: float | None = None,
) -> int:
    """Send every due batch (or only ``batches``); how many notifications were tried.
    With ``budget_s``, stop starting new batches once that much time has passed."""
    now = now or datetime.now(UTC)
    started = time.monotonic()
    tried = 0
    for batch in due_batches(steward, now) if batches is None else batches:
        if budget_s is not None and time.monotonic() - started > budget_s:
            break
        tried += deliver_batch(steward, batch, now)
    return tried


def deliver_batch(steward: Steward, batch: str, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    claimed = _claim(steward, batch, now)
    if claimed is None:
        return 0
    channel, rows, attempt_ids = claimed
    kind = KINDS.get(channel.kind)
    message, template_error = build_message(channel, kind, batch, rows)
    sending = Sending(steward.settings.allow_networks, channel.timeout_s)
    try:
        outcome = kind.send(kind.config.model_validate(channel.config), message, sending)
    except Exception as exc:  # a kind's bug must not lose the notification
        log.exception("channel kind %s failed to send", kind.name)
        outcome = Outcome(False, None, f"{type(exc).__name__}: {exc}")
    _settle(steward, channel, rows, attempt_ids, outcome, template_error)
    return len(rows)


def alert_of(row: Notification) -> dict[str, Any]:
    return {
        **row.payload,
        "event": row.event,
        "event_id": row.event_id,
        "event_at": as_utc(row.created_at).isoformat(),
    }


def build_message(
    channel: Channel, kind: ChannelKind, batch: str, rows: Sequence[Notification]
) -> tuple[Message, str]:
    alerts = tuple(alert_of(r) for r in rows)
    spec = TemplateSpec.model_validate(channel.template or {})
    rendered = render(spec, kind.default_body, context_of(channel.name, alerts))
    message = Message(
        id=batch,
        channel=channel.name,
        subject=rendered.subject,
        body=rendered.body,
        alerts=alerts,
        sent_at=datetime.now(UTC),
    )
    return message, rendered.error


def _claim(
    steward: Steward, batch: str, now: datetime
) -> tuple[Channel, list[Notification], list[int]] | None:
    with steward.db.write() as session:
        rows = list(
            session.scalars(
                select(Notification)
                .where(
                    Notification.batch == batch,
                    Notification.status == "pending",
                    Notification.next_attempt_at <= now,
                    (Notification.claimed_until.is_(None)) | (Notification.claimed_until < now),
                )
                .order_by(Notification.id)
            )
        )
        if not rows:
            return None
        channel = session.get(Channel, rows[0].channel_id)
        if channel is None:
            return None
        until = now + timedelta(seconds=channel.timeout_s * 2 + LEASE_MARGIN_S)
        ids = [r.id for r in rows]
        taken = session.connection().execute(
            update(Notification)
            .where(
                Notification.id.in_(ids),
                Notification.status == "pending",
                (Notification.claimed_until.is_(None)) | (Notification.claimed_until < now),
            )
            .values(claimed_until=until)
        )
        if taken.rowcount != len(ids):  # another process claimed it meanwhile
            session.rollback()
            return None
        session.execute(
            update(NotificationAttempt)
            .where(
                NotificationAttempt.notification_id.in_(ids),
                NotificationAttempt.finished_at.is_(None),
            )
            .values(finished_at=now, error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        attempts = [NotificationAttempt(notification_id=i, started_at=now) for i in ids]
        session.add_all(attempts)
        session.flush()
        session.expunge_all()
        return channel, rows, [a.id for a in attempts]


def _settle(
    steward: Steward,
    channel: Channel,
    rows: Sequence[Notification],
    attempt_ids: Sequence[int],
    outcome: Outcome,
    template_error: str,
) -> None:
    now = datetime.now(UTC)
    attempts = rows[0].attempts + 1
    if outcome.ok:
        status = "delivered"
    elif outcome.permanent or attempts >= channel.max_attempts:
        status = "failed"
    else:
        status = "pending"
    wait_s = backoff_s(attempts, steward.settings.events_retry_base_s)
    if outcome.retry_after_s is not None:
        wait_s = max(wait_s, outcome.retry_after_s)
    with steward.change(ACTOR) as change:
        change.connection.execute(
            update(NotificationAttempt)
            .where(NotificationAttempt.id.in_(attempt_ids))
            .values(
                finished_at=now,
                status_code=outcome.status_code,
                error=outcome.error[:2000],
                latency_ms=round(outcome.latency_ms, 3),
            )
        )
        change.connection.execute(
            update(Notification)
            .where(Notification.id.in_([r.id for r in rows]))
            .values(
                status=status,
                attempts=attempts,
                claimed_until=None,
                last_error=outcome.error[:2000],
                template_error=template_error,
                next_attempt_at=now + timedelta(seconds=wait_s) if status == "pending" else now,
                delivered_at=now if outcome.ok else None,
                updated_at=now,
            )
        )
        if status != "pending":
            for row in rows:
                record_outcome(change, channel, row, f"notification.{status}", attempts, outcome)
    if status == "failed":
        log.warning(
            "notification batch %s to %s failed: %s", rows[0].batch, channel.name, outcome.error
        )


def record_outcome(
    change: Change,
    channel: Channel,
    row: Notification,
    name: str,
    attempts: int,
    outcome: Outcome | None = None,
) -> None:
    payload = {
        "channel": channel.name,
        "kind": channel.kind,
        "event_id": row.event_id,
        "event": row.event,
        "alert_id": row.alert_id,
        "attempts": attempts,
        "status_code": outcome.status_code if outcome else None,
        "error": (outcome.error or None) if outcome else None,
        "suppressed_by": row.suppressed_by,
    }
    change.record(name, "notification", row.id, after=payload)
