"""A generic webhook channel: an alert event becomes one signed POST, recorded."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Receiver
from tests.helpers import recorded, settle

from modelsteward.alerting.channels.delivery import deliver_due
from modelsteward.alerting.channels.notifications import list_notifications, show_notification
from modelsteward.alerting.channels.service import create_channel, list_channels
from modelsteward.alerting.channels.subscriber import SUBSCRIBER
from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher


def webhook(steward: Steward, hook: Receiver, name: str = "ops", **extra: object) -> dict:
    return create_channel(
        steward,
        "admin",
        {"name": name, "kind": "webhook", "config": {"url": hook.url + "/in"}, **extra},
    )


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (docs/notifications.md shows the same code)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, s.split(",", 1)[1])
        for s in headers["webhook-signature"].split()
    )


def test_an_opened_alert_reaches_the_webhook_signed_and_is_logged_as_delivered(
    local: Steward, hook: Receiver
) -> None:
    created = webhook(local, hook)
    secret = created["generated_secrets"]["secret"]
    record_alert(local)
    settle(local)
    [request] = hook.wait_for(1)
    assert request.path == "/in"
    assert verify(secret, request.headers, request.body)
    body = request.json
    assert body["type"] == "alert.notification" and body["status"] == "firing"
    assert body["id"] == request.headers["webhook-id"]
    [one] = body["alerts"]
    assert (
        one["alert_id"] == 7 and one["event"] == "alert.opened" and one["labels"]["team"] == "risk"
    )
    assert "drift-high" in body["subject"] and "CRITICAL" in body["subject"]
    [row] = list_notifications(local)
    assert row["status"] == "delivered" and row["attempts"] == 1
    shown = show_notification(local, row["id"])
    [attempt] = shown["attempts_log"]
    assert attempt["status_code"] == 200 and attempt["latency_ms"] >= 0 and attempt["finished_at"]
    [done] = recorded(local, "notification.delivered")
    assert done.payload["channel"] == "ops" and done.payload["status_code"] == 200


def test_the_signing_secret_is_shown_once_and_never_again(local: Steward, hook: Receiver) -> None:
    created = webhook(local, hook)
    secret = created["generated_secrets"]["secret"]
    assert secret.startswith("whsec_")
    [listed] = list_channels(local)
    assert listed["config"]["secret"] == "********"
    assert "generated_secrets" not in listed
    [event] = recorded(local, "channel.created")
    assert secret not in str(event.payload)


def test_an_event_handed_over_twice_makes_one_notification(local: Steward, hook: Receiver) -> None:
    webhook(local, hook)
    record_alert(local)
    [event] = recorded(local, "alert.opened")
    SUBSCRIBER.handle(local, event)
    SUBSCRIBER.handle(local, event)
    Dispatcher(local, subscribers=[SUBSCRIBER]).settle()
    assert len(list_notifications(local)) == 1
    assert len(hook.requests) == 1


def test_routing_sends_only_the_severities_models_and_labels_a_channel_asks_for(
    local: Steward, hook: Receiver
) -> None:
    webhook(local, hook, "warnings", routing={"severities": ["warning"]})
    webhook(local, hook, "risk-team", routing={"matchers": ["team=risk", "tier!~low|none"]})
    webhook(local, hook, "fraud", routing={"models": ["fraud-score"]})
    record_alert(local, severity="critical")
    settle(local)
    assert [r["channel"] for r in list_notifications(local)] == ["risk-team"]


def test_a_suppressed_alert_is_recorded_and_not_sent(local: Steward, hook: Receiver) -> None:
    webhook(local, hook)
    record_alert(local, suppressed_by="silence 4")
    settle(local)
    [row] = list_notifications(local)
    assert row["status"] == "suppressed" and row["suppressed_by"] == "silence 4"
    assert hook.requests == []
    assert recorded(local, "notification.suppressed")


def test_alerts_of_one_rule_and_model_within_the_group_wait_go_out_as_one_message(
    local: Steward, hook: Receiver
) -> None:
    webhook(local, hook, group_wait_s=60)
    record_alert(local, alert_id=7, segment="a")
    record_alert(local, alert_id=8, segment="b")
    record_alert(local, alert_id=9, rule_id=4, rule="latency")  # another rule: its own
    settle(local)
    assert hook.requests == []  # still within the group wait
    deliver_due(local, now=datetime.now(UTC) + timedelta(seconds=61))
    requests = hook.wait_for(2)
    grouped = sorted((sorted(a["alert_id"] for a in r.json["alerts"]) for r in requests), key=len)
    assert grouped == [[9], [7, 8]]
    assert {r["status"] for r in list_notifications(local)} == {"delivered"}
