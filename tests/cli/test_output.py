"""What the CLI prints for people: whole tables in files and pipes, words for empty lists,
windows and life cycles as people read them, a version, no stray progress lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_monitor_cli import served  # noqa: F401  (a fixture)
from tests.cli.test_report_cli import write_pair

import modelsteward


def plain_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``steward`` with its output captured, as in a pipe, and no COLUMNS hint."""
    clean = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-m", "modelsteward", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_table_written_to_a_pipe_is_not_cut_at_80_columns(env: dict[str, str]) -> None:
    long_value = "retail-lending-" + "x" * 120
    created = plain_cli("models", "create", "wide", env=env)
    assert created.returncode == 0, created.stderr
    import httpx

    headers = {"Authorization": f"Bearer {env['STEWARD_TOKEN']}"}
    patched = httpx.patch(
        f"{env['STEWARD_URL']}/api/v1/models/wide",
        json={"tags": {"team": long_value}},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    table = plain_cli("models", "list", env=env).stdout
    assert f"team={long_value}" in table
    assert "…" not in table


def test_empty_lists_say_so_in_words(env: dict[str, str]) -> None:
    tasks = plain_cli("tasks", env=env)
    assert tasks.returncode == 0 and tasks.stdout.strip() == "no open tasks"
    done = plain_cli("tasks", "--status", "approved", env=env)
    assert done.stdout.strip() == "no approved tasks"
    assert plain_cli("deployments", "list", env=env).stdout.strip() == "no deployments"
    assert plain_cli("models", "list", env=env).stdout.strip() == "no models registered yet"
    assert plain_cli("audit", "list", "--model", "ghost", env=env).stdout.strip() == (
        "no audit records about ghost"
    )


@pytest.mark.usefixtures("ungoverned")
def test_an_unknown_metric_names_the_recorded_ones_and_fails(
    served: dict[str, str],  # noqa: F811
) -> None:
    env = served
    import json

    listed = json.loads(plain_cli("monitors", "list", "churn-production", "--json", env=env).stdout)
    ops = next(m for m in listed if m["name"] == "operations")
    assert plain_cli("monitors", "run", str(ops["id"]), env=env).returncode == 0
    out = plain_cli("metrics", "churn-production", "--metric", "not_a_metric", env=env)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.startswith("error: no metric 'not_a_metric' on churn-production")
    assert "requests" in out.stderr and "error_rate" in out.stderr
    known = plain_cli("metrics", "churn-production", "--metric", "requests", env=env)
    assert known.returncode == 0 and "requests" in known.stdout
    none_yet = plain_cli(
        "metrics",
        "churn-production",
        "--metric",
        "requests",
        "--since",
        "2999-01-01T00:00Z",
        env=env,
    )
    assert none_yet.returncode == 0
    assert none_yet.stdout.strip() == "no metric points of churn-production match"


@pytest.mark.usefixtures("ungoverned")
def test_monitors_show_their_window_in_words(served: dict[str, str]) -> None:  # noqa: F811
    table = plain_cli("monitors", "list", "churn-production", env=served).stdout
    assert "1h every 15m" in table
    assert "{'hours'" not in table and "'last'" not in table


def test_life_cycles_list_their_states_not_a_path(env: dict[str, str]) -> None:
    table = plain_cli("lifecycles", "list", env=env).stdout
    assert "regulated" in table
    assert "→" not in table
    assert "registered, in_validation, validated, approved" in table


def test_version_prints_the_package_version() -> None:
    out = plain_cli("--version", env={})
    assert out.returncode == 0 and out.stdout.strip() == f"modelsteward {modelsteward.__version__}"


def test_report_prints_its_verdict_without_stray_column_names(tmp_path: Path) -> None:
    reference, current = write_pair(tmp_path)
    out = plain_cli(
        "report", str(reference), str(current), "-o", str(tmp_path / "r.html"), env={}, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    (verdict,) = out.stdout.strip().splitlines()
    assert verdict.endswith(f"report written to {tmp_path / 'r.html'}"), verdict
    for stray in ("income", "plan", "duplicate rows"):
        assert stray not in out.stderr
        assert f"  {stray}" not in out.stdout
