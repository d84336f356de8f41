"""Prometheus Alertmanager: post the alerts to an existing Alertmanager's
``/api/v2/alerts``, so platform teams route them with the rest of their alerts.

Each alert carries its routing labels (``alertname`` is the rule; label names are made
Prometheus-safe), ``startsAt`` (when it opened) and ``endsAt``: when it resolved, or,
while it fires, ``firing_ttl_hours`` ahead (Alertmanager resolves an alert by itself
once ``endsAt`` passes, so a silent platform cannot leave one firing forever).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from modelsteward.alerting.channels.kinds import ChannelKind, Message, check_url_config
from modelsteward.alerting.channels.kinds.auth import SECRETS, AuthenticatedUrlConfig
from modelsteward.alerting.channels.outbound import Outcome, Sending, post

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class AlertmanagerConfig(AuthenticatedUrlConfig):
    """``url`` is the Alertmanager's base URL, e.g. ``http://alertmanager:9093``."""

    firing_ttl_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    generator_url: str = Field(default="", max_length=2000)


def label_name(key: str) -> str:
    safe = _UNSAFE.sub("_", key)
    return safe if safe and not safe[0].isdigit() else f"_{safe}"


def alerts_of(config: AlertmanagerConfig, message: Message) -> list[dict[str, Any]]:
    found = []
    for alert in message.alerts:
        labels = {label_name(k): str(v) for k, v in alert["labels"].items()}
        labels.update(
            alertname=alert["rule"],
            severity=alert["severity"],
            model=alert["model"],
            deployment=alert["deployment"],
            alert_id=str(alert["alert_id"]),
        )
        starts = datetime.fromisoformat(alert["opened_at"])
        if alert["state"] == "resolved":  # Alertmanager refuses an end before the start
            ends = max(datetime.fromisoformat(alert["event_at"]), starts + timedelta(seconds=1))
        else:
            ends = max(message.sent_at, starts) + timedelta(hours=config.firing_ttl_hours)
        item: dict[str, Any] = {
            "labels": labels,
            "annotations": {
                "summary": alert["summary"],
                "description": message.body,
                "value": "" if alert["value"] is None else str(alert["value"]),
                "state": alert["state"],
            },
            "startsAt": alert["opened_at"],
            "endsAt": ends.isoformat(),
        }
        if config.generator_url:
            item["generatorURL"] = config.generator_url
        found.append(item)
    return found


def endpoint(config: AlertmanagerConfig) -> str:
    return config.url.rstrip("/") + "/api/v2/alerts"


def send(config: AlertmanagerConfig, message: Message, sending: Sending) -> Outcome:
    body = json.dumps(alerts_of(config, message)).encode()
    headers = {"content-type": "application/json", **config.auth_headers()}
    return post(endpoint(config), body, headers, sending)


def preview(config: AlertmanagerConfig, message: Message) -> dict[str, Any]:
    return {"method": "POST", "url": endpoint(config), "body": alerts_of(config, message)}


KIND = ChannelKind(
    name="alertmanager",
    description="Post the alerts to a Prometheus Alertmanager (/api/v2/alerts).",
    config=AlertmanagerConfig,
    send=send,
    preview=preview,
    check=check_url_config,
    secrets=SECRETS,
)
