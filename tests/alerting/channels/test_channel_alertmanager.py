"""An Alertmanager channel against a real Prometheus Alertmanager (Debian's
``prometheus-alertmanager``, started on 127.0.0.1), which forwards what it receives to
a local webhook: the alert arrives with its routing labels, and resolves."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Receiver
from tests.helpers import settle

from modelsteward.alerting.channels.notifications import list_notifications, show_notification
from modelsteward.alerting.channels.service import create_channel
from modelsteward.context import Steward

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = pytest.mark.skipif(
    BINARY is None,
    reason="Prometheus Alertmanager is not installed (make test-deps installs "
    "the Debian package prometheus-alertmanager)",
)
CONFIG = """
route:
  receiver: local
  group_by: [alertname, model]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: local
    webhook_configs:
      - url: {url}/forwarded
        send_resolved: true
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alertmanager(tmp_path: Path, hook: Receiver) -> Iterator[str]:
    assert BINARY is not None
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(url=hook.url))
    port = free_port()
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "Alertmanager did not become ready"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        process.stderr.close()  # type: ignore[union-attr]


def test_an_alert_reaches_alertmanager_which_forwards_it_and_its_resolution(
    local: Steward, hook: Receiver, alertmanager: str
) -> None:
    create_channel(
        local, "admin", {"name": "am", "kind": "alertmanager", "config": {"url": alertmanager}}
    )
    record_alert(local)
    settle(local)
    assert {r["status"] for r in list_notifications(local)} == {"delivered"}
    [forwarded] = hook.wait_for(1, timeout_s=60)
    body = forwarded.json
    assert forwarded.path == "/forwarded" and body["status"] == "firing"
    [alert] = body["alerts"]
    labels = alert["labels"]
    assert labels["alertname"] == "drift-high" and labels["model"] == "credit-approval"
    assert labels["team"] == "risk" and labels["severity"] == "critical"
    assert labels["alert_id"] == "7"
    assert alert["annotations"]["summary"] == "psi of income is 0.31, above 0.2"
    opened = show_notification(local, list_notifications(local)[0]["id"])["alert"]["opened_at"]
    assert alert["startsAt"][:19] == opened[:19]  # when it opened, not when it was sent
    record_alert(local, "alert.resolved", by="ana", reason="retrained")
    settle(local)
    deadline = time.monotonic() + 60
    while not any(r.json["status"] == "resolved" for r in hook.requests):
        assert time.monotonic() < deadline, "Alertmanager never forwarded the resolution"
        hook.wait_for(len(hook.requests) + 1, timeout_s=60)
    resolved = next(r.json for r in hook.requests if r.json["status"] == "resolved")
    assert resolved["alerts"][0]["labels"]["alert_id"] == "7"
    assert resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
