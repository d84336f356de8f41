"""Generic webhook: the whole message as JSON, signed in the Standard Webhooks style.

Headers ``webhook-id`` (the message id, the same on every retry: deduplicate by it),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,`` and the base64
HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed by the secret's bytes (the base64 after
``whsec_``). A secret left out is generated and shown once, at creation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from pydantic import field_validator

from modelsteward.alerting.channels.kinds import (
    ChannelKind,
    Message,
    UrlConfig,
    check_url_config,
)
from modelsteward.alerting.channels.outbound import Outcome, Sending, post

PREFIX = "whsec_"


class WebhookConfig(UrlConfig):
    secret: str

    @field_validator("secret")
    @classmethod
    def _standard_secret(cls, value: str) -> str:
        raw = value.removeprefix(PREFIX)
        try:
            key = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                "secret must be 'whsec_' and base64 (leave it out to generate one)"
            ) from None
        if len(key) < 16:
            raise ValueError("secret must carry at least 16 bytes")
        return PREFIX + raw


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for ``body``."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def document(message: Message) -> dict[str, Any]:
    """The JSON body (documented in docs/notifications.md)."""
    return {
        "type": "alert.notification",
        "version": 1,
        "id": message.id,
        "channel": message.channel,
        "status": message.status,
        "subject": message.subject,
        "text": message.body,
        "alerts": list(message.alerts),
        "sent_at": message.sent_at.isoformat(),
    }


def request(config: WebhookConfig, message: Message) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document(message), default=str, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": message.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(config.secret, message.id, timestamp, body),
    }
    return body, headers


def send(config: WebhookConfig, message: Message, sending: Sending) -> Outcome:
    body, headers = request(config, message)
    return post(config.url, body, headers, sending)


def preview(config: WebhookConfig, message: Message) -> dict[str, Any]:
    _, headers = request(config, message)
    return {"method": "POST", "url": config.url, "headers": headers, "body": document(message)}


def prepare(config: dict[str, Any]) -> dict[str, Any]:
    return config if config.get("secret") else {**config, "secret": new_secret()}


KIND = ChannelKind(
    name="webhook",
    description="POST the message as signed JSON (Standard Webhooks headers).",
    config=WebhookConfig,
    send=send,
    preview=preview,
    check=check_url_config,
    secrets=("secret",),
    prepare=prepare,
)
