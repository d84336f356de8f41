"""Outbound URLs are checked against SSRF when a channel is created and when it connects."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Answer, Receiver, receiver
from tests.helpers import settings_for, settle

from modelsteward.alerting.channels.notifications import list_notifications, show_notification
from modelsteward.alerting.channels.service import create_channel, list_channels
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.errors import InvalidInput


@pytest.fixture
def guarded(tmp_path: Path) -> Steward:
    """No network allowed: the production default."""
    instance = Steward(settings_for(tmp_path / "home"))
    yield instance
    instance.close()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "metadata"),
        ("http://0x7f000001/", "loopback"),
        ("http://localhost:9/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://[::1]:8080/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("file:///etc/passwd", "http:// or https://"),
    ],
)
def test_a_channel_to_an_internal_address_is_refused_at_creation(
    guarded: Steward, url: str, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why):
        create_channel(guarded, "admin", {"name": "x", "kind": "webhook", "config": {"url": url}})
    assert list_channels(guarded) == []


def test_the_refusal_names_the_setting_that_allows_a_network(guarded: Steward) -> None:
    with pytest.raises(InvalidInput, match="STEWARD_ALLOW_NETWORKS"):
        create_channel(
            guarded,
            "admin",
            {"name": "x", "kind": "slack", "config": {"url": "http://127.0.0.1:9/hook"}},
        )


def test_an_allowed_network_admits_a_local_receiver(local: Steward, hook: Receiver) -> None:
    create_channel(local, "admin", {"name": "x", "kind": "webhook", "config": {"url": hook.url}})
    assert [c["name"] for c in list_channels(local)] == ["x"]


def test_the_address_is_checked_again_when_connecting(tmp_path: Path, hook: Receiver) -> None:
    home = tmp_path / "home"
    allowed = Steward(settings_for(home, STEWARD_ALLOW_NETWORKS="127.0.0.0/8"))
    create_channel(allowed, "admin", {"name": "x", "kind": "webhook", "config": {"url": hook.url}})
    allowed.close()
    strict = Steward(settings_for(home))  # the operator took the allowance back
    try:
        record_alert(strict)
        settle(strict)
        [row] = list_notifications(strict)
        assert row["status"] == "failed" and "loopback" in row["last_error"]
        assert hook.requests == []
    finally:
        strict.close()


def test_a_redirect_to_the_metadata_address_is_not_followed(local: Steward) -> None:
    with receiver() as hook:
        hook.default = Answer(302, {"location": "http://169.254.169.254/latest/meta-data/"})
        create_channel(
            local, "admin", {"name": "x", "kind": "webhook", "config": {"url": hook.url}}
        )
        record_alert(local)
        settle(local)
        [row] = list_notifications(local)
        assert row["status"] == "failed" and "not followed" in row["last_error"]
        [attempt] = show_notification(local, row["id"])["attempts_log"]
        assert attempt["status_code"] == 302
        assert len(hook.requests) == 1


def test_a_malformed_allowed_network_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="STEWARD_ALLOW_NETWORKS"):
        Settings.from_env({"STEWARD_ALLOW_NETWORKS": "127.0.0.0/8, localhost"})
