"""``steward lifecycles``, ``steward lifecycle`` and ``steward tasks`` against a live server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import people, skops_file, token_for
from tests.lifecycle.workbench import GATED

from modelsteward.context import Steward


@pytest.fixture
def gated(env: dict[str, str], steward: Steward, tmp_path: Path) -> Path:
    """``gated`` applied and assigned to every model, and churn v1 registered on it."""
    people(steward, "olivia")
    definition = tmp_path / "gated.yaml"
    definition.write_text(GATED)
    applied = steward_cli("lifecycles", "apply", str(definition), env=env)
    assert applied.returncode == 0, applied.stderr
    assert "saved life cycle gated version 1" in applied.stdout
    headers = {"Authorization": f"Bearer {env['STEWARD_TOKEN']}"}
    rules = [{"priority": 1, "definition": "gated"}]
    httpx.put(f"{env['STEWARD_URL']}/api/v1/lifecycle-rules", json=rules, headers=headers)
    model = skops_file(tmp_path / "m")
    registered = steward_cli(
        "models", "register", "churn", "--file", str(model), "--flavor", "sklearn",
        "--metric", "auc=0.91", "--owner", "olivia", env=env,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    return definition


def test_definitions_are_listed_shown_validated_and_applied(
    gated: Path, env: dict[str, str], tmp_path: Path
) -> None:
    listed = json.loads(steward_cli("lifecycles", "list", "--json", env=env).stdout)
    assert {"standard", "regulated", "gated"} <= {d["name"] for d in listed}
    shown = steward_cli("lifecycles", "show", "gated", env=env)
    assert shown.returncode == 0 and "release" in shown.stdout and "2× risk-manager" in shown.stdout
    source = steward_cli("lifecycles", "show", "gated", "--source", env=env).stdout
    assert source.strip() == GATED.strip()
    again = steward_cli("lifecycles", "apply", str(gated), env=env)
    assert "life cycle gated unchanged (version 1)" in again.stdout

    valid = steward_cli("lifecycles", "validate", str(gated), env=env)
    assert valid.returncode == 0 and "valid (life cycle gated)" in valid.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(GATED.replace("to: review", "to: nowhere"))
    line = broken.read_text().splitlines().index("    to: nowhere") + 1
    refused = steward_cli("lifecycles", "validate", str(broken), env=env)
    assert refused.returncode == 2
    assert f"{broken}:{line}: transitions[2].to: unknown state 'nowhere'" in refused.stdout
    not_saved = steward_cli("lifecycles", "apply", str(broken), env=env)
    assert not_saved.returncode == 2 and f"line {line}" in not_saved.stderr
    assert len(not_saved.stderr.strip().splitlines()) == 1


def test_a_version_is_moved_and_approved_from_the_command_line(
    gated: Path, env: dict[str, str], steward: Steward
) -> None:
    status = json.loads(steward_cli("lifecycle", "status", "churn:1", "--json", env=env).stdout)
    assert status["state"] == "draft" and status["definition"] == "gated"
    checked = steward_cli("lifecycle", "move", "churn:1", "check", env=env)
    assert checked.returncode == 0 and "churn v1: check applied (state checked)" in checked.stdout
    waiting = steward_cli("lifecycle", "move", "churn:1", "release", env=env)
    assert "release waiting" in waiting.stdout
    table = steward_cli("lifecycle", "status", "churn:1", env=env).stdout
    assert "waiting" in table and "release" in table

    rita = {**env, "STEWARD_TOKEN": token_for(steward, "risk-manager", "rita")}
    raj = {**env, "STEWARD_TOKEN": token_for(steward, "risk-manager", "raj")}
    inbox = json.loads(steward_cli("tasks", "--json", env=rita).stdout)
    assert [(t["transition"], t["needed"]) for t in inbox] == [("release", 2)]
    task = str(inbox[0]["id"])
    assert (
        steward_cli("tasks", "comment", task, "-m", "reading the report", env=env).returncode == 0
    )
    first = steward_cli("tasks", "approve", task, "--comment", "sound", env=rita)
    assert first.returncode == 0 and "1/2 approvals" in first.stdout
    twice = steward_cli("tasks", "approve", task, env=rita)
    assert twice.returncode == 5 and "one vote each" in twice.stderr
    second = steward_cli("tasks", "approve", task, env=raj)
    assert "churn v1: release applied (state live)" in second.stdout
    assert "live" in steward_cli("lifecycle", "status", "churn:1", env=env).stdout
    assert "approved" in steward_cli("tasks", "--status", "approved", env=rita).stdout


def test_a_blocked_move_exits_non_zero_and_says_which_gate_failed(
    gated: Path, env: dict[str, str], tmp_path: Path
) -> None:
    model = skops_file(tmp_path / "weak")
    registered = steward_cli(
        "models", "register", "churn", "--file", str(model), "--flavor", "sklearn",
        "--metric", "auc=0.5", env=env,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    blocked = steward_cli("lifecycle", "move", "churn:2", "check", env=env)
    assert blocked.returncode == 5, (blocked.stdout, blocked.stderr)
    assert "churn v2: check blocked (state draft)" in blocked.stdout
    assert len(blocked.stderr.strip().splitlines()) == 1
    assert "check of churn v2 is blocked" in blocked.stderr and "auc" in blocked.stderr
    as_json = steward_cli("lifecycle", "move", "churn:2", "check", "--json", env=env)
    assert as_json.returncode == 5 and json.loads(as_json.stdout)["outcome"] == "blocked"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("lifecycle", "status", "churn"), 2, "MODEL:VERSION"),
        (("lifecycle", "status", "ghost:1"), 4, "model 'ghost' not found"),
        (("lifecycle", "move", "churn:1", "teleport"), 2, "has no transition 'teleport'"),
        (("lifecycle", "move", "churn:1", "restore"), 5, "not allowed from state 'draft'"),
        (("tasks", "approve", "999"), 4, "task 999 not found"),
        (("lifecycles", "show", "ghost"), 4, "life cycle 'ghost' not found"),
        (("lifecycles", "apply", "/nonexistent.yaml"), 2, "no such file"),
    ],
)
def test_lifecycle_errors_are_one_line(
    gated: Path, env: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    out = steward_cli(*args, env=env)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_assignment_rules_are_shown_and_replaced_from_a_file(
    gated: Path, env: dict[str, str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {priority: 1, definition: champion-challenger, tag: origin=retraining}\n"
        "  - {priority: 5, definition: regulated, risk_tier: critical}\n"
        "  - {priority: 9, definition: gated}\n"
    )
    replaced = steward_cli("lifecycles", "rules", "--set", str(rules), env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert "champion-challenger" in replaced.stdout and "origin=retraining" in replaced.stdout

    shown = json.loads(steward_cli("lifecycles", "rules", "--json", env=env).stdout)
    assert [(r["priority"], r["definition"]) for r in shown] == [
        (1, "champion-challenger"),
        (5, "regulated"),
        (9, "gated"),
    ]
    rules.write_text("- {priority: 1, definition: nowhere}\n")
    refused = steward_cli("lifecycles", "rules", "--set", str(rules), env=env)
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1
    assert "nowhere" in refused.stderr
    after = json.loads(steward_cli("lifecycles", "rules", "--json", env=env).stdout)
    assert after == shown
