"""E-mail channels against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.alerting.channels.conftest import record_alert
from tests.helpers import recorded, settle

from modelsteward.alerting.channels.notifications import list_notifications, show_notification
from modelsteward.alerting.channels.service import create_channel
from modelsteward.context import Steward


class Mailbox:
    def __init__(self, refuse: str | None = None) -> None:
        self.messages: list[email.message.Message] = []
        self.refuse = refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def smtp(mailbox: Mailbox) -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    yield from smtp(Mailbox())


@pytest.fixture
def refusing() -> Iterator[tuple[Mailbox, int]]:
    yield from smtp(Mailbox(refuse="550 5.1.1 mailbox unavailable"))


def channel(steward: Steward, port: int) -> None:
    create_channel(
        steward,
        "admin",
        {
            "name": "mail",
            "kind": "email",
            "config": {
                "host": "127.0.0.1",
                "port": port,
                "from_addr": "steward@example.org",
                "to": ["oncall@example.org", "risk@example.org"],
            },
        },
    )


def test_an_alert_arrives_as_an_email_with_its_subject_and_summary(
    local: Steward, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    channel(local, port)
    record_alert(local)
    settle(local)
    [mail] = box.messages
    assert mail["Subject"].startswith("[FIRING:CRITICAL] drift-high on credit-approval")
    assert mail["To"] == "oncall@example.org, risk@example.org"
    [row] = list_notifications(local)
    assert mail["Message-ID"] == f"<{row['message_id']}@modelsteward>"
    assert "psi of income is 0.31" in mail.get_payload()
    assert row["status"] == "delivered"


def test_an_smtp_server_refusing_the_mail_dead_letters_it_with_the_code(
    local: Steward, refusing: tuple[Mailbox, int]
) -> None:
    box, port = refusing
    channel(local, port)
    record_alert(local)
    settle(local)
    [row] = list_notifications(local)
    assert row["status"] == "failed" and "550" in row["last_error"]
    [attempt] = show_notification(local, row["id"])["attempts_log"]
    assert attempt["status_code"] == 550
    assert recorded(local, "notification.failed")
    assert box.messages == []


def test_an_smtp_host_on_a_private_address_is_refused_without_an_allowance(
    steward: Steward,
) -> None:
    from modelsteward.errors import InvalidInput

    with pytest.raises(InvalidInput, match="loopback"):
        channel(steward, 25)
