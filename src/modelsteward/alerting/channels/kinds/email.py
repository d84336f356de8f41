"""E-mail over SMTP: the subject and a plain-text body, to a list of addresses.

The server's address goes through the same SSRF guard as URLs, and the connection is
made to the checked address (``STARTTLS`` still verifies the certificate against the
host name). A 5xx answer (mailbox refused, relaying denied) fails at once; a 4xx or a
connection fault is retried. ``Message-ID`` carries the message id, so a mail system
that deduplicates by it drops a redelivery.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from pydantic import Field, field_validator

from modelsteward.alerting.channels.kinds import ChannelKind, KindConfig, Message
from modelsteward.alerting.channels.outbound import Outcome, Sending
from modelsteward.alerting.channels.ssrf import Refused, resolve

_ADDRESS = r"^[^@\s<>,;]+@[^@\s<>,;]+$"


class EmailConfig(KindConfig):
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username: str | None = Field(default=None, max_length=256)
    password: str | None = Field(default=None, max_length=1024)
    from_addr: str = Field(pattern=_ADDRESS, max_length=320)
    to: list[str] = Field(min_length=1, max_length=100)

    @field_validator("to")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) > 320 or not re.fullmatch(_ADDRESS, value):
                raise ValueError(f"{value[:80]!r} is not an e-mail address")
        return values


class _PinnedSMTP(smtplib.SMTP):
    """Connects to the address the guard checked, while speaking to (and verifying
    the certificate of) the configured host name."""

    def __init__(self, address: str, timeout: float) -> None:
        self._address = address
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout, self.source_address)


def document(config: EmailConfig, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = config.from_addr
    mail["To"] = ", ".join(config.to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message.id}@modelsteward>"
    mail.set_content(message.body + "\n")
    return mail


def send(config: EmailConfig, message: Message, sending: Sending) -> Outcome:
    started = time.perf_counter()
    outcome = _send(config, message, sending)
    return Outcome(**{**outcome.__dict__, "latency_ms": (time.perf_counter() - started) * 1000})


def _send(config: EmailConfig, message: Message, sending: Sending) -> Outcome:
    try:
        address = resolve(config.host, config.port, sending.networks)[0]
        with _PinnedSMTP(str(address), sending.timeout_s) as smtp:
            smtp.connect(config.host, config.port)
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(document(config, message))
        return Outcome(True, 250)
    except Refused as exc:
        return Outcome(False, None, str(exc), permanent=True)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return _refused(code, text, "recipient refused")
    except smtplib.SMTPResponseException as exc:
        return _refused(exc.smtp_code, exc.smtp_error, "SMTP server refused")
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, None, f"cannot reach the SMTP server: {type(exc).__name__}: {exc}")


def _refused(code: int, text: bytes | str, what: str) -> Outcome:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return Outcome(False, code, f"{what}: {code} {said}"[:500], permanent=500 <= code < 600)


def preview(config: EmailConfig, message: Message) -> dict[str, Any]:
    mail = document(config, message)
    return {"smtp": f"{config.host}:{config.port}", "message": mail.as_string()}


def check(config: EmailConfig, networks: Sequence[str]) -> None:
    resolve(config.host, config.port, networks)


KIND = ChannelKind(
    name="email",
    description="Send an e-mail through an SMTP server.",
    config=EmailConfig,
    send=send,
    preview=preview,
    check=check,
    secrets=("password",),
)
