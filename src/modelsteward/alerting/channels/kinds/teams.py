"""Microsoft Teams incoming webhook: an Adaptive Card (the Workflows webhooks' format,
the default) or a legacy MessageCard (Office 365 connectors). The URL is a secret."""

from __future__ import annotations

import json
from typing import Any, Literal

from modelsteward.alerting.channels.kinds import ChannelKind, Message, UrlConfig, check_url_config
from modelsteward.alerting.channels.outbound import Outcome, Sending, post

COLOURS = {"critical": "D13438", "warning": "FFB900", "info": "0078D4", "resolved": "107C10"}


class TeamsConfig(UrlConfig):
    format: Literal["adaptive_card", "message_card"] = "adaptive_card"


def _colour(message: Message) -> str:
    return (
        COLOURS["resolved"] if message.status == "resolved" else COLOURS[message.first["severity"]]
    )


def document(config: TeamsConfig, message: Message) -> dict[str, Any]:
    if config.format == "message_card":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": message.subject,
            "themeColor": _colour(message),
            "title": message.subject,
            "text": message.body.replace("\n", "\n\n"),
        }
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message.subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Attention" if message.status == "firing" else "Good",
            },
            {"type": "TextBlock", "text": message.body, "wrap": True},
            {
                "type": "FactSet",
                "facts": [
                    {"title": "Model", "value": message.first["model"]},
                    {"title": "Deployment", "value": message.first["deployment"]},
                    {"title": "Severity", "value": message.first["severity"]},
                    {"title": "Alerts", "value": str(len(message.alerts))},
                ],
            },
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def send(config: TeamsConfig, message: Message, sending: Sending) -> Outcome:
    body = json.dumps(document(config, message)).encode()
    return post(config.url, body, {"content-type": "application/json"}, sending)


def preview(config: TeamsConfig, message: Message) -> dict[str, Any]:
    return {"method": "POST", "url": "(the channel's URL)", "body": document(config, message)}


KIND = ChannelKind(
    name="teams",
    description="Post an Adaptive Card (or a MessageCard) to a Microsoft Teams webhook.",
    config=TeamsConfig,
    send=send,
    preview=preview,
    check=check_url_config,
    secrets=("url",),
)
