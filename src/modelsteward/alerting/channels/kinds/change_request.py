"""Change request: one ticket per alert, with the fields a ServiceNow incident or a Jira
issue integration expects (see docs/notifications.md for the payload).

ServiceNow's Table API (``POST /api/now/table/incident``) takes the top-level fields as
they are; a Jira automation or integration maps the ``jira.fields`` block onto
``POST /rest/api/2/issue``. Urgency and impact come from the severity (critical 1,
warning 2, info 3); the assignment group from the alert's routing label
(``assignment_group_label``, ``team`` by default), else the configured default;
``correlation_id`` carries the alert id, so the receiver updates the same ticket when
the alert is acknowledged or resolved.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from modelsteward.alerting.channels.kinds import ChannelKind, Message, check_url_config
from modelsteward.alerting.channels.kinds.auth import SECRETS, AuthenticatedUrlConfig
from modelsteward.alerting.channels.outbound import Outcome, Sending, post

LEVEL = {"critical": 1, "warning": 2, "info": 3}
JIRA_PRIORITY = {"critical": "Highest", "warning": "High", "info": "Medium"}
STATE = {"firing": "new", "acknowledged": "in_progress", "resolved": "resolved"}


class ChangeRequestConfig(AuthenticatedUrlConfig):
    assignment_group: str = Field(default="", max_length=256)
    assignment_group_label: str = Field(default="team", max_length=128)
    category: str = Field(default="software", max_length=128)
    caller: str = Field(default="modelsteward", max_length=256)
    jira_project: str = Field(default="", max_length=64)
    jira_issue_type: str = Field(default="Incident", max_length=64)


def correlation_id(alert_id: int) -> str:
    return f"modelsteward-alert-{alert_id}"


def document(config: ChangeRequestConfig, message: Message) -> dict[str, Any]:
    alert = message.first
    severity = alert["severity"]
    group = alert["labels"].get(config.assignment_group_label) or config.assignment_group
    jira: dict[str, Any] = {
        "summary": message.subject,
        "description": message.body,
        "issuetype": {"name": config.jira_issue_type},
        "priority": {"name": JIRA_PRIORITY[severity]},
        "labels": ["modelsteward", f"alert-{alert['alert_id']}", alert["model"]],
    }
    if config.jira_project:
        jira["project"] = {"key": config.jira_project}
    return {
        "short_description": message.subject,
        "description": message.body,
        "urgency": LEVEL[severity],
        "impact": LEVEL[severity],
        "assignment_group": group,
        "category": config.category,
        "caller_id": config.caller,
        "cmdb_ci": alert["model"],
        "correlation_id": correlation_id(alert["alert_id"]),
        "correlation_display": "modelsteward",
        "state": STATE[alert["state"]],
        "close_notes": (alert.get("reason") or "") if alert["state"] == "resolved" else "",
        "event": alert["event"],
        "labels": alert["labels"],
        "jira": {"fields": jira},
        "alert": alert,
    }


def send(config: ChangeRequestConfig, message: Message, sending: Sending) -> Outcome:
    body = json.dumps(document(config, message), default=str).encode()
    headers = {
        "content-type": "application/json",
        "idempotency-key": message.id,
        **config.auth_headers(),
    }
    return post(config.url, body, headers, sending)


def preview(config: ChangeRequestConfig, message: Message) -> dict[str, Any]:
    return {"method": "POST", "url": config.url, "body": document(config, message)}


KIND = ChannelKind(
    name="change_request",
    description="Open or update a ticket (ServiceNow incident / Jira issue fields).",
    config=ChangeRequestConfig,
    send=send,
    preview=preview,
    check=check_url_config,
    secrets=SECRETS,
    groups=False,
)
