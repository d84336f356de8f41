"""Faults of receivers: each leaves a clear record, loses nothing, sends nothing twice
beyond an at-least-once redelivery with the same message id."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Answer, Receiver
from tests.helpers import recorded, settle

from modelsteward.alerting.channels.delivery import deliver_due
from modelsteward.alerting.channels.notifications import (
    list_notifications,
    retry_notification,
    show_notification,
)
from modelsteward.alerting.channels.service import create_channel
from modelsteward.context import Steward


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def only(steward: Steward) -> dict:
    [row] = list_notifications(steward)
    return row


def test_an_unreachable_webhook_is_retried_then_dead_lettered_and_can_be_sent_again(
    local: Steward, hook: Receiver
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    create_channel(
        local, "admin", {"name": "x", "kind": "webhook", "config": {"url": url}, "max_attempts": 3}
    )
    record_alert(local)
    settle(local)
    row = only(local)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "cannot reach" in row["last_error"]
    deliver_due(local, now=later(3600))
    deliver_due(local, now=later(7200))
    row = only(local)
    assert row["status"] == "failed" and row["attempts"] == 3
    [failed] = recorded(local, "notification.failed")
    assert failed.payload["attempts"] == 3 and "cannot reach" in failed.payload["error"]
    assert len(show_notification(local, row["id"])["attempts_log"]) == 3
    # the operator mends the URL and sends it again by hand
    from modelsteward.alerting.channels.service import update_channel

    update_channel(local, "admin", "x", {"config": {"url": hook.url}})
    assert retry_notification(local, "admin", row["id"])["queued"] == 1
    deliver_due(local)
    assert only(local)["status"] == "delivered"
    assert hook.wait_for(1)[0].headers["webhook-id"] == row["message_id"]
    assert recorded(local, "notification.retried")


def test_a_slow_webhook_times_out_and_is_retried(local: Steward, hook: Receiver) -> None:
    hold = threading.Event()
    hook.answers.append(Answer(200, hold=hold))
    create_channel(
        local,
        "admin",
        {"name": "x", "kind": "webhook", "config": {"url": hook.url}, "timeout_s": 0.3},
    )
    try:
        record_alert(local)
        settle(local)
        row = only(local)
        assert row["status"] == "pending" and "timed out after 0.3 s" in row["last_error"]
    finally:
        hold.set()
    deliver_due(local, now=later(3600))
    assert only(local)["status"] == "delivered"


def test_a_500_then_a_200_is_delivered_on_the_second_attempt_with_the_same_id(
    local: Steward, hook: Receiver
) -> None:
    hook.answers.append(Answer(500))
    create_channel(local, "admin", {"name": "x", "kind": "webhook", "config": {"url": hook.url}})
    record_alert(local)
    settle(local)
    row = only(local)
    assert row["status"] == "pending" and row["last_error"].startswith("HTTP 500")
    deliver_due(local, now=later(3600))
    first, second = hook.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    row = only(local)
    assert row["status"] == "delivered" and row["attempts"] == 2
    codes = [a["status_code"] for a in show_notification(local, row["id"])["attempts_log"]]
    assert codes == [500, 200]


def test_slack_answering_429_waits_its_retry_after(local: Steward, hook: Receiver) -> None:
    hook.answers.append(Answer(429, {"retry-after": "120"}))
    create_channel(local, "admin", {"name": "chat", "kind": "slack", "config": {"url": hook.url}})
    record_alert(local)
    settle(local)
    row = only(local)
    assert row["status"] == "pending" and "429" in row["last_error"]
    wait = datetime.fromisoformat(row["next_attempt_at"]) - datetime.now(UTC)
    assert 100 < wait.total_seconds() <= 121
    deliver_due(local, now=later(60))
    assert len(hook.requests) == 1  # not yet
    deliver_due(local, now=later(125))
    assert only(local)["status"] == "delivered"
    assert hook.wait_for(2)[1].json["text"].startswith("[FIRING:CRITICAL]")


def test_a_template_that_fails_to_render_sends_the_default_and_records_why(
    local: Steward, hook: Receiver
) -> None:
    create_channel(
        local,
        "admin",
        {
            "name": "x",
            "kind": "webhook",
            "config": {"url": hook.url},
            "template": {
                "subject": "{{ alert.no_such_field.deeper }}",
                "body": "{{ ''.__class__.__mro__ }}",
            },
        },
    )
    record_alert(local)
    settle(local)
    [request] = hook.wait_for(1)
    assert "drift-high" in request.json["subject"]  # the default subject
    row = only(local)
    assert row["status"] == "delivered"
    assert "subject template failed" in row["template_error"]
    assert "body template failed" in row["template_error"]
