"""``steward monitors`` and ``steward metrics``: list, show, run now, points over time."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import skops_file

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    model = skops_file(tmp_path / "m")
    registered = steward_cli(
        "models", "register", "churn", "--file", str(model), "--flavor", "sklearn", env=env
    )
    assert registered.returncode == 0, registered.stderr
    deployed = steward_cli("deploy", "churn:1", env=env)
    assert deployed.returncode == 0, deployed.stderr
    headers = {"Authorization": f"Bearer {env['STEWARD_TOKEN']}"}
    rows = [{"age": 30 + i, "income": 40.0 + i} for i in range(20)]
    response = httpx.post(
        f"{env['STEWARD_URL']}/api/v1/deployments/churn-production/predict",
        json=rows,
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return env


def test_list_run_show_and_metrics(served: dict[str, str]) -> None:
    env = served
    listed = json.loads(
        steward_cli("monitors", "list", "churn-production", "--json", env=env).stdout
    )
    ops = next(m for m in listed if m["name"] == "operations")
    table = steward_cli("monitors", "list", "churn-production", env=env).stdout
    assert "data-drift" in table and "prediction_drift" in table and "1h every 15m" in table

    ran = steward_cli("monitors", "run", str(ops["id"]), env=env)
    assert ran.returncode == 0, ran.stderr
    assert "churn-production / operations: ok (1 rows)" in ran.stdout
    assert "latency_p99_ms" in ran.stdout
    as_json = json.loads(steward_cli("monitors", "run", str(ops["id"]), "--json", env=env).stdout)
    assert as_json["status"] == "ok" and as_json["trigger"] == "manual"

    shown = json.loads(steward_cli("monitors", "show", str(ops["id"]), "--json", env=env).stdout)
    assert shown["last_status"] == "ok" and len(shown["runs"]) == 2
    assert "latest runs" in steward_cli("monitors", "show", str(ops["id"]), env=env).stdout

    points = json.loads(
        steward_cli("metrics", "churn-production", "--metric", "requests", "--json", env=env).stdout
    )
    assert [p["value"] for p in points] == [1.0, 1.0]
    table = steward_cli("metrics", "churn-production", "--monitor", "operations", env=env).stdout
    assert "error_rate" in table and "operations" in table


def test_update_replaces_spec_fields(served: dict[str, str]) -> None:
    listed = json.loads(
        steward_cli("monitors", "list", "churn-production", "--json", env=served).stdout
    )
    drift = str(next(m["id"] for m in listed if m["name"] == "data-drift"))
    out = steward_cli(
        "monitors", "update", drift, "--spec", '{"window": {"last": 500}}', "--json", env=served
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["spec"]["window"] == {"hours": None, "last": 500}
    bad = steward_cli("monitors", "update", drift, "--spec", "[1]", env=served)
    assert bad.returncode == 2 and "JSON object" in bad.stderr
    wrong = steward_cli(
        "monitors", "update", drift, "--spec", '{"methods": {"x": "no"}}', env=served
    )
    assert wrong.returncode == 2 and "unknown drift method" in wrong.stderr


def test_disable_and_enable(served: dict[str, str]) -> None:
    listed = json.loads(
        steward_cli("monitors", "list", "churn-production", "--json", env=served).stdout
    )
    first = str(listed[0]["id"])
    assert "disabled" in steward_cli("monitors", "disable", first, env=served).stdout
    shown = json.loads(steward_cli("monitors", "show", first, "--json", env=served).stdout)
    assert shown["enabled"] is False
    assert "enabled" in steward_cli("monitors", "enable", first, env=served).stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("monitors", "show", "999"), 4, "monitor 999 not found"),
        (("monitors", "run", "999"), 4, "monitor 999 not found"),
        (("monitors", "list", "ghost"), 4, "deployment 'ghost' not found"),
        (("metrics", "ghost"), 4, "deployment 'ghost' not found"),
    ],
)
def test_errors_are_one_line(
    served: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    out = steward_cli(*args, env=served)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_baseline_is_pinned_to_a_window_and_cleared(served: dict[str, str]) -> None:
    env = served
    listed = json.loads(
        steward_cli("monitors", "list", "churn-production", "--json", env=env).stdout
    )
    quality = str(next(m["id"] for m in listed if m["name"] == "data-quality"))
    pinned = steward_cli("monitors", "baseline", quality, "--last", "20", env=env)
    assert pinned.returncode == 0, pinned.stderr
    assert "baseline: pinned by admin: the last 20 predictions" in pinned.stdout
    shown = json.loads(steward_cli("monitors", "show", quality, "--json", env=env).stdout)
    assert shown["baseline"]["pinned"] is True and shown["baseline"]["rows"] == 20
    cleared = steward_cli("monitors", "baseline", quality, "--clear", env=env)
    assert cleared.returncode == 0 and "none kept" in cleared.stdout
    both = steward_cli("monitors", "baseline", quality, "--clear", "--hours", "1", env=env)
    assert both.returncode != 0 and "--clear" in both.stderr
    performance = str(next(m["id"] for m in listed if m["name"] == "performance"))
    refused = steward_cli("monitors", "baseline", performance, "--hours", "1", env=env)
    assert refused.returncode != 0 and "keep no baseline" in refused.stderr


def test_metrics_reads_one_segment(served: dict[str, str]) -> None:
    listed = json.loads(
        steward_cli("monitors", "list", "churn-production", "--json", env=served).stdout
    )
    drift = str(next(m["id"] for m in listed if m["name"] == "data-drift"))
    spec = '{"segment_by": "age", "min_rows": 1, "window": {"last": 100}}'
    assert steward_cli("monitors", "update", drift, "--spec", spec, env=served).returncode == 0
    for _ in range(2):  # the first run captures each segment's reference, the second compares
        ran = steward_cli("monitors", "run", drift, env=served)
        assert ran.returncode == 0, ran.stderr
    out = steward_cli("metrics", "churn-production", "--segment", "age=31", "--json", env=served)
    assert out.returncode == 0, out.stderr
    points = json.loads(out.stdout)
    assert points and {p["segment"] for p in points} == {"age=31"}
    assert {p["column"] for p in points if p["metric"] == "drift_score"} == {"income"}
