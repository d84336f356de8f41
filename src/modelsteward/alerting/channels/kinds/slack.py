"""Slack incoming webhook: ``text`` (the subject, also the notification preview) and one
mrkdwn section with the body. The URL is the credential, so it is a secret. Slack
answers 429 with ``Retry-After`` when rate limited; delivery waits that long."""

from __future__ import annotations

import json
from typing import Any

from modelsteward.alerting.channels.kinds import ChannelKind, Message, UrlConfig, check_url_config
from modelsteward.alerting.channels.outbound import Outcome, Sending, post

SECTION_LIMIT = 3000  # Slack refuses a section text longer than this
BODY = """{% for a in alerts %}
• *{{ a.state }}* `{{ a.severity }}` {{ a.summary }} — model *{{ a.model }}*, \
deployment `{{ a.deployment }}` (alert {{ a.alert_id }})
{% endfor %}"""


class SlackConfig(UrlConfig):
    pass


def document(message: Message) -> dict[str, Any]:
    text = f"*{message.subject}*\n{message.body}"
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {
        "text": message.subject,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def send(config: SlackConfig, message: Message, sending: Sending) -> Outcome:
    body = json.dumps(document(message)).encode()
    return post(config.url, body, {"content-type": "application/json"}, sending)


def preview(config: SlackConfig, message: Message) -> dict[str, Any]:
    return {"method": "POST", "url": "(the channel's URL)", "body": document(message)}


KIND = ChannelKind(
    name="slack",
    description="Post to a Slack incoming webhook.",
    config=SlackConfig,
    send=send,
    preview=preview,
    check=check_url_config,
    secrets=("url",),
    default_body=BODY,
)
