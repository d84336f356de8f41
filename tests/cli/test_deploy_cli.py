"""``steward deploy`` and ``steward deployments``: follow the steps, shift traffic, roll back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import skops_file


@pytest.fixture
def two_versions(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    for seed in (1, 2):
        model = skops_file(tmp_path / str(seed), seed=seed)
        out = steward_cli(
            "models", "register", "churn", "--file", str(model), "--flavor", "sklearn", env=env
        )
        assert out.returncode == 0, out.stderr
    return env


def test_deploy_shows_each_step_then_canary_traffic_and_rollback(
    two_versions: dict[str, str],
) -> None:
    env = two_versions
    first = steward_cli("deploy", "churn:1", "--env", "staging", env=env)
    assert first.returncode == 0, first.stderr
    for step in ("load", "verify", "smoke", "ready", "switch"):
        assert step in first.stdout
    assert "churn-staging: revision 1 serving" in first.stdout

    canary = steward_cli(
        "deploy", "churn:2", "--env", "staging", "--strategy", "canary", "--traffic", "20", env=env
    )
    assert canary.returncode == 0, canary.stderr
    listed = json.loads(steward_cli("deployments", "list", "--json", env=env).stdout)
    assert [(r["version"], r["weight"]) for r in listed[0]["routes"]] == [(1, 80), (2, 20)]

    assert steward_cli("deployments", "traffic", "churn-staging", "50", env=env).returncode == 0
    assert (
        steward_cli(
            "deployments", "rollback", "churn-staging", "--revision", "1", env=env
        ).returncode
        == 0
    )
    shown = json.loads(
        steward_cli("deployments", "show", "churn-staging", "--json", env=env).stdout
    )
    assert shown["routes"] == [{"version": 1, "role": "champion", "weight": 100}]
    assert [r["status"] for r in shown["revisions"]] == [
        "applied",
        "superseded",
        "superseded",
        "superseded",
    ]
    assert (
        "rollback to revision 1"
        in steward_cli("deployments", "show", "churn-staging", env=env).stdout
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("deploy", "churn"), 2, "NAME:VERSION"),
        (("deploy", "ghost:1"), 4, "model 'ghost' not found"),
        (("deploy", "churn:9"), 4, "no version '9'"),
        (("deploy", "churn:1", "--strategy", "canary"), 5, "needs a serving champion"),
        (("deployments", "rollback", "nothing"), 4, "not found"),
    ],
)
def test_deploy_errors_are_one_line(
    two_versions: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    out = steward_cli(*args, env=two_versions)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
