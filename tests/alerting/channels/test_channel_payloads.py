"""The payloads of the chat and ticket kinds, as their receivers expect them, sent to a
real local server."""

from __future__ import annotations

from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Receiver
from tests.helpers import settle

from modelsteward.alerting.channels.service import create_channel
from modelsteward.alerting.channels.trial import preview
from modelsteward.context import Steward


def test_a_change_request_carries_the_fields_servicenow_and_jira_expect(
    local: Steward, hook: Receiver
) -> None:
    create_channel(
        local,
        "admin",
        {
            "name": "tickets",
            "kind": "change_request",
            "config": {
                "url": hook.url + "/api/now/table/incident",
                "username": "svc",
                "password": "pw",
                "assignment_group": "ml-platform",
                "jira_project": "OPS",
            },
        },
    )
    record_alert(local)
    record_alert(local, "alert.resolved", reason="retrained")
    settle(local)
    opened, resolved = hook.wait_for(2)
    body = opened.json
    assert body["short_description"].startswith("[FIRING:CRITICAL] drift-high")
    assert body["urgency"] == 1 and body["impact"] == 1
    assert body["assignment_group"] == "risk"  # the alert's team label wins the default
    assert body["correlation_id"] == "modelsteward-alert-7" and body["state"] == "new"
    assert body["cmdb_ci"] == "credit-approval"
    assert body["jira"]["fields"]["project"] == {"key": "OPS"}
    assert body["jira"]["fields"]["priority"] == {"name": "Highest"}
    assert opened.headers["authorization"].startswith("Basic ")
    assert resolved.json["state"] == "resolved" and resolved.json["close_notes"] == "retrained"
    assert resolved.json["correlation_id"] == "modelsteward-alert-7"


def test_a_change_request_channel_refuses_a_group_wait(local: Steward, hook: Receiver) -> None:
    import pytest

    from modelsteward.errors import InvalidInput

    with pytest.raises(InvalidInput, match="group_wait_s must be 0"):
        create_channel(
            local,
            "admin",
            {
                "name": "t",
                "kind": "change_request",
                "config": {"url": hook.url},
                "group_wait_s": 30,
            },
        )


def test_teams_gets_an_adaptive_card_and_slack_a_section(local: Steward, hook: Receiver) -> None:
    create_channel(
        local, "admin", {"name": "teams", "kind": "teams", "config": {"url": hook.url + "/teams"}}
    )
    create_channel(
        local, "admin", {"name": "slack", "kind": "slack", "config": {"url": hook.url + "/slack"}}
    )
    record_alert(local)
    settle(local)
    by_path = {r.path: r.json for r in hook.wait_for(2)}
    card = by_path["/teams"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert card["content"]["body"][0]["text"].startswith("[FIRING:CRITICAL]")
    slack = by_path["/slack"]
    assert slack["blocks"][0]["text"]["type"] == "mrkdwn"
    assert "credit-approval" in slack["blocks"][0]["text"]["text"]


def test_a_channel_template_shapes_the_message_and_the_preview_shows_it(
    local: Steward, hook: Receiver
) -> None:
    create_channel(
        local,
        "admin",
        {
            "name": "x",
            "kind": "webhook",
            "config": {"url": hook.url},
            "template": {
                "subject": "{{ count }} alert(s) for {{ alert.model }}",
                "body": "{% for a in alerts %}{{ a.labels.team }}{% endfor %}",
            },
        },
    )
    shown = preview(local, "x")
    assert shown["subject"] == "1 alert(s) for sample-model"
    assert shown["request"]["body"]["text"] == "sample-team"
    assert hook.requests == []  # a preview sends nothing
    record_alert(local)
    settle(local)
    [sent] = hook.wait_for(1)
    assert sent.json["subject"] == "1 alert(s) for credit-approval" and sent.json["text"] == "risk"


def test_a_template_that_does_not_parse_is_refused_when_saved(
    local: Steward, hook: Receiver
) -> None:
    import pytest

    from modelsteward.errors import InvalidInput

    with pytest.raises(InvalidInput, match="template.subject"):
        create_channel(
            local,
            "admin",
            {
                "name": "x",
                "kind": "webhook",
                "config": {"url": hook.url},
                "template": {"subject": "{% for %}"},
            },
        )
