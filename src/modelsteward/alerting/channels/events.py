"""Events the channels record: channels configured, notifications' final outcomes."""

from __future__ import annotations

from typing import Any

from modelsteward.events.catalogue import EventType, Payload


class ChannelChanged(Payload):
    """A channel as it stands after the change, its secrets left out."""

    name: str
    kind: str
    enabled: bool
    config: dict[str, Any]
    routing: dict[str, Any]
    group_wait_s: float


class ChannelRemoved(Payload):
    name: str
    kind: str


class NotificationOutcome(Payload):
    """The end of one notification: sent, dead-lettered, or held back by a silence."""

    channel: str
    kind: str
    event_id: int
    event: str
    alert_id: int
    attempts: int
    status_code: int | None = None
    error: str | None = None
    suppressed_by: str | None = None


class NotificationRetried(Payload):
    channel: str
    previous_status: str


EVENTS = [
    EventType(
        "channel.created", "A notification channel was configured.", "channel", ChannelChanged
    ),
    EventType(
        "channel.updated",
        "A channel's settings, routing, template or enabled flag changed.",
        "channel",
        ChannelChanged,
    ),
    EventType("channel.removed", "A notification channel was removed.", "channel", ChannelRemoved),
    EventType(
        "notification.delivered",
        "A notification reached its channel (the receiver answered with success).",
        "notification",
        NotificationOutcome,
    ),
    EventType(
        "notification.failed",
        "A notification was dead-lettered: its attempts ran out or the receiver refused it.",
        "notification",
        NotificationOutcome,
    ),
    EventType(
        "notification.suppressed",
        "An alert event routed to a channel was not sent: a silence or an inhibition held it.",
        "notification",
        NotificationOutcome,
    ),
    EventType(
        "notification.retried",
        "Someone queued a notification to be sent again.",
        "notification",
        NotificationRetried,
    ),
]
