"""`steward channels` / `steward notifications` and /api/v1: thin doors onto the service,
with permissions and clear refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.alerting.channels.conftest import record_alert
from tests.alerting.channels.receivers import Receiver
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of, token_for

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward


@pytest.fixture
def env(local: Steward) -> Iterator[dict[str, str]]:
    with serve_in_thread(local) as url:
        yield {"STEWARD_URL": url, "STEWARD_TOKEN": admin_token_of(local)}


def cli(env: dict[str, str], *args: str) -> str:
    done = steward_cli(*args, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def until_delivered(env: dict[str, str], count: int) -> list[dict]:
    deadline = time.monotonic() + 60
    while True:
        rows = json.loads(cli(env, "notifications", "list", "--status", "delivered", "--json"))
        if len(rows) >= count:
            return rows
        assert time.monotonic() < deadline, "the notifications were never delivered"
        time.sleep(0.1)


def test_a_channel_added_from_flags_tested_previewed_and_notified(
    local: Steward, env: dict[str, str], hook: Receiver
) -> None:
    added = cli(
        env,
        "channels",
        "add",
        "ops",
        "--kind",
        "webhook",
        "--url",
        hook.url,
        "--severity",
        "critical",
        "--match",
        "team=risk",
    )
    assert "whsec_" in added  # the generated secret, shown once
    [listed] = json.loads(cli(env, "channels", "list", "--json"))
    assert listed["config"]["secret"] == "********"
    assert listed["routing"]["severities"] == ["critical"]
    shown = cli(env, "channels", "preview", "ops")
    assert "sample-rule" in shown and hook.requests == []
    assert "sample-rule" in cli(env, "channels", "test", "ops", "--dry-run")
    assert hook.requests == []
    assert "sent to ops: 200" in cli(env, "channels", "test", "ops")
    assert hook.wait_for(1)[0].json["alerts"][0]["rule"] == "sample-rule"
    record_alert(local)
    local.doorbell.set()
    [row] = until_delivered(env, 1)
    assert row["channel"] == "ops" and row["event"] == "alert.opened"
    detail = json.loads(cli(env, "notifications", "show", str(row["id"]), "--json"))
    assert detail["attempts_log"][0]["status_code"] == 200
    assert "queued again" in cli(env, "notifications", "retry", str(row["id"]))
    assert "removed" in cli(env, "channels", "remove", "ops")
    assert json.loads(cli(env, "channels", "list", "--json")) == []


def test_a_channel_added_from_a_yaml_file(
    env: dict[str, str], hook: Receiver, tmp_path: Path
) -> None:
    spec = tmp_path / "mail.yaml"
    spec.write_text(
        "name: teams-risk\nkind: teams\nconfig:\n  url: " + hook.url + "\n  format: message_card\n"
        "routing:\n  events: [alert.opened, alert.acknowledged, alert.resolved]\n"
        "group_wait_s: 30\n"
    )
    cli(env, "channels", "add", "--file", str(spec))
    [listed] = json.loads(cli(env, "channels", "list", "--json"))
    assert listed["kind"] == "teams" and listed["group_wait_s"] == 30
    assert listed["config"]["url"].endswith("/********")


def test_bad_input_is_one_line_and_a_non_zero_exit(env: dict[str, str]) -> None:
    done = steward_cli(
        "channels", "add", "x", "--kind", "pager", "--url", "http://127.0.0.1/", env=env
    )
    assert done.returncode != 0 and "unknown channel kind 'pager'" in done.stderr
    done = steward_cli("notifications", "list", "--status", "lost", env=env)
    assert done.returncode != 0 and "status must be one of" in done.stderr
    assert json.loads(cli(env, "channels", "list", "--json")) == []


def test_the_api_refuses_bad_channels_with_the_field_named(
    local: Steward, env: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {env['STEWARD_TOKEN']}"}
    with httpx.Client(base_url=env["STEWARD_URL"], headers=headers) as api:
        bad = api.post(
            "/api/v1/channels",
            json={"name": "x", "kind": "email", "config": {"host": "127.0.0.1", "to": []}},
        )
        assert bad.status_code == 422
        error = bad.json()["error"]
        assert "config.from_addr" in error["message"] and "config.to" in error["message"]
        assert error["request_id"]
        assert api.get("/api/v1/channels/nope").status_code == 404
        assert api.get("/api/v1/notifications/99").status_code == 404


def test_viewers_read_channels_but_may_not_manage_them(
    local: Steward, env: dict[str, str], hook: Receiver
) -> None:
    admin = {"Authorization": f"Bearer {env['STEWARD_TOKEN']}"}
    viewer = {"Authorization": f"Bearer {token_for(local, 'viewer')}"}
    operator = {"Authorization": f"Bearer {token_for(local, 'operator')}"}
    spec = {"name": "ops", "kind": "webhook", "config": {"url": hook.url}}
    with httpx.Client(base_url=env["STEWARD_URL"]) as api:
        refused = api.post("/api/v1/channels", json=spec, headers=viewer)
        assert refused.status_code == 403
        assert "channels.manage" in refused.json()["error"]["message"]
        assert api.post("/api/v1/channels", json=spec, headers=operator).status_code == 201
        assert api.get("/api/v1/channels", headers=viewer).status_code == 200
        assert api.get("/api/v1/notifications", headers=viewer).status_code == 200
        assert api.post("/api/v1/channels/ops/test", headers=viewer).status_code == 403
        assert api.delete("/api/v1/channels/ops", headers=viewer).status_code == 403
        assert api.delete("/api/v1/channels/ops", headers=admin).status_code == 204
