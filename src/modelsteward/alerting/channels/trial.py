"""Trying a channel out: ``preview`` renders a sample alert as the channel would send
it, without sending; ``test`` sends it and says what the receiver answered. Neither
writes a notification: the sample is not an alert."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelsteward.alerting.channels.delivery import build_message
from modelsteward.alerting.channels.grouping import new_batch
from modelsteward.alerting.channels.kinds import KINDS
from modelsteward.alerting.channels.outbound import Sending
from modelsteward.alerting.channels.service import find
from modelsteward.alerting.channels.tables import Channel, Notification
from modelsteward.alerting.events import AlertChanged

if TYPE_CHECKING:
    from modelsteward.context import Steward

SAMPLE = AlertChanged(
    alert_id=0,
    rule="sample-rule",
    rule_id=0,
    severity="warning",
    state="firing",
    model="sample-model",
    deployment="sample-deployment",
    environment="staging",
    version=1,
    monitor="data-drift",
    metric="psi",
    column="income",
    segment="",
    value=0.27,
    threshold=0.2,
    low=None,
    high=None,
    window_end=None,
    summary="A test notification from modelsteward: psi of income is 0.27, above 0.2",
    labels={"team": "sample-team", "owner": "sample-owner", "severity": "warning"},
    opened_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
)


def _sample(channel: Channel) -> tuple[Any, Any]:
    kind = KINDS.get(channel.kind)
    row = Notification(
        event_id=0,
        event="alert.opened",
        channel_id=channel.id,
        alert_id=0,
        payload=SAMPLE.model_dump(),
        created_at=datetime.now(UTC),
    )
    message, error = build_message(channel, kind, "msg_test_" + new_batch()[4:], [row])
    return kind, (message, error)


def _channel(steward: Steward, name: str) -> Channel:
    with steward.db.read() as session:
        channel = find(session, name)
        session.expunge(channel)
        return channel


def preview(steward: Steward, name: str) -> dict[str, Any]:
    channel = _channel(steward, name)
    kind, (message, error) = _sample(channel)
    config = kind.config.model_validate(channel.config)
    return {
        "channel": name,
        "kind": kind.name,
        "subject": message.subject,
        "body": message.body,
        "template_error": error,
        "request": kind.preview(config, message),
    }


def test(steward: Steward, name: str) -> dict[str, Any]:
    channel = _channel(steward, name)
    kind, (message, error) = _sample(channel)
    config = kind.config.model_validate(channel.config)
    outcome = kind.send(
        config, message, Sending(steward.settings.allow_networks, channel.timeout_s)
    )
    return {
        "channel": name,
        "kind": kind.name,
        "ok": outcome.ok,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "latency_ms": round(outcome.latency_ms, 1),
        "message_id": message.id,
        "subject": message.subject,
        "template_error": error,
    }
