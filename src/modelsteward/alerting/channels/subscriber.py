"""The subscriber that turns alert events into notifications, one per routed channel.

``alerting.notifications`` hears ``alert.opened``, ``alert.acknowledged`` and
``alert.resolved`` (once per cluster, through the outbox) and, in one change, writes a
notification for each enabled channel whose routing takes the event. A unique
(event, channel) pair makes a redelivered event a no-op. An event whose alert is
silenced or inhibited (``suppressed_by``) is recorded as ``suppressed`` and not sent.
Notifications due at once (no group wait) are then sent right away, within a time
budget; the ``notifications.delivery`` job sends the rest, retries and anything a
stopped process left.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from modelsteward.alerting.channels.delivery import ACTOR, deliver_due, record_outcome
from modelsteward.alerting.channels.grouping import batch_for, group_key
from modelsteward.alerting.channels.kinds import KINDS
from modelsteward.alerting.channels.routing import Routing
from modelsteward.alerting.channels.tables import Channel, Notification
from modelsteward.alerting.events import AlertChanged
from modelsteward.errors import InvalidInput
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber

if TYPE_CHECKING:
    from modelsteward.context import Steward

ALERT_EVENTS = frozenset({"alert.opened", "alert.acknowledged", "alert.resolved"})
SEND_NOW_BUDGET_S = 5.0


def queue_notifications(steward: Steward, event: DomainEvent) -> None:
    if event.id is None:
        raise ValueError("only committed events (with an id) can be notified")
    payload = AlertChanged.model_validate(event.payload).model_dump()
    now = datetime.now(UTC)
    send_now: list[str] = []
    with steward.change(ACTOR) as change:
        session = change.session
        channels = session.scalars(
            select(Channel).where(Channel.enabled.is_(True)).order_by(Channel.id)
        ).all()
        for channel in channels:
            if not Routing.model_validate(channel.routing).routes(event.name, payload):
                continue
            known = session.scalar(
                select(Notification.id).where(
                    Notification.event_id == event.id, Notification.channel_id == channel.id
                )
            )
            if known is not None:
                continue
            try:
                grouping = KINDS.get(channel.kind).groups
            except InvalidInput:  # its plugin is gone: the row waits, visibly
                grouping = True
            key = group_key(payload)
            wait_s = channel.group_wait_s if grouping else 0.0
            suppressed = payload.get("suppressed_by")
            batch, due = batch_for(session, channel.id, key, wait_s, now)
            row = Notification(
                event_id=event.id,
                event=event.name,
                channel_id=channel.id,
                alert_id=payload["alert_id"],
                payload=payload,
                group_key=key,
                batch=batch,
                status="suppressed" if suppressed else "pending",
                next_attempt_at=due,
                suppressed_by=suppressed,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            if suppressed:
                record_outcome(change, channel, row, "notification.suppressed", 0)
            elif due <= now and batch not in send_now:
                send_now.append(batch)
    if send_now:
        deliver_due(steward, now=datetime.now(UTC), batches=send_now, budget_s=SEND_NOW_BUDGET_S)


SUBSCRIBER = Subscriber(
    name="alerting.notifications",
    description="Writes a notification for each channel an alert event routes to, and sends it.",
    events=ALERT_EVENTS,
    handle=queue_notifications,
    timeout_s=120.0,
)
