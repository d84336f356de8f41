"""A process killed with SIGKILL in the middle of sending a notification: after a
restart the notification is sent again with the same message id, and recorded once."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Answer, Receiver
from tests.helpers import recorded

from modelsteward.alerting.channels.delivery import INTERRUPTED, deliver_due
from modelsteward.alerting.channels.notifications import list_notifications, show_notification
from modelsteward.alerting.channels.service import create_channel
from modelsteward.context import Steward

DELIVER_AND_BE_KILLED = """
import sys
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher
steward = Steward(Settings.from_env({"STEWARD_HOME": sys.argv[1],
                                     "STEWARD_ALLOW_NETWORKS": "127.0.0.0/8"}))
Dispatcher(steward).settle()  # the test kills it while the receiver holds the request
"""


def test_a_kill_during_delivery_is_sent_again_after_a_restart(
    local: Steward, hook: Receiver
) -> None:
    hold = threading.Event()
    hook.answers.append(Answer(200, hold=hold))
    create_channel(local, "admin", {"name": "ops", "kind": "webhook", "config": {"url": hook.url}})
    record_alert(local)
    worker = subprocess.Popen(
        [sys.executable, "-c", DELIVER_AND_BE_KILLED, str(local.settings.home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        hook.wait_for(1, timeout_s=120)  # the request is in flight...
        worker.kill()  # ...SIGKILL
        worker.wait(30)
    finally:
        hold.set()
        if worker.poll() is None:
            worker.kill()
        worker.stderr.close()  # type: ignore[union-attr]
    [row] = list_notifications(local)
    assert row["status"] == "pending"  # accepted, claimed, never answered: not lost
    assert deliver_due(local) == 0  # its claim still holds: nobody sends it twice at once
    deliver_due(local, now=datetime.now(UTC) + timedelta(minutes=5))  # the claim ran out
    first, second = hook.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row["message_id"]
    [row] = list_notifications(local)
    assert row["status"] == "delivered"
    attempts = show_notification(local, row["id"])["attempts_log"]
    assert [a["error"] for a in attempts] == [INTERRUPTED, ""]
    assert len(recorded(local, "notification.delivered")) == 1
