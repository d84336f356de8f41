"""`steward pipelines|retrain|runs|reproduce` and /api/v1/pipelines, /api/v1/runs: thin
doors onto the training service, with permissions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of, settings_for, token_for
from tests.training.conftest import DETERMINISTIC, pipeline_of, write_data, write_source

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin


@pytest.fixture
def steward(tmp_path: Path) -> Iterator[Steward]:
    """A SQLite steward whose background work runs often (the runs job claims runs)."""
    instance = Steward(settings_for(tmp_path / "home", STEWARD_SCHEDULER_SECONDS="0.2"))
    ensure_bootstrap_admin(instance)
    yield instance
    instance.close()


@pytest.fixture
def env(credit: Steward) -> Iterator[dict[str, str]]:
    with serve_in_thread(credit) as url:
        yield {"STEWARD_URL": url, "STEWARD_TOKEN": admin_token_of(credit)}


def cli(env: dict[str, str], *args: str, code: int = 0) -> str:
    done = steward_cli(*args, env=env)
    assert done.returncode == code, done.stderr + done.stdout
    return done.stdout


def test_a_pipeline_uploaded_from_the_cli_retrains_and_reproduces(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = write_source(tmp_path / "code", DETERMINISTIC)
    data = write_data(tmp_path / "data.csv")
    created = json.loads(
        cli(
            env,
            "pipelines",
            "create",
            "credit",
            "--source",
            str(source),
            "--data",
            str(data),
            "--entry-point",
            "train:fit",
            "--target",
            "approved",
            "--param",
            "C=0.5",
            "--seed",
            "3",
            "--trust",
            "reviewed by the team",
            "--json",
        )
    )
    assert created["source"]["kind"] == "artifact" and created["trusted"]
    assert [p["model"] for p in json.loads(cli(env, "pipelines", "list", "--json"))] == ["credit"]
    assert json.loads(cli(env, "pipelines", "show", "credit", "--json"))["params"] == {"C": 0.5}
    run = json.loads(cli(env, "retrain", "credit", "--wait", "--json"))
    assert run["status"] == "succeeded", run["reason"]
    assert run["model"] == "credit" and run["version"] == 2
    assert run["cause"].startswith("manual by ")
    listed = json.loads(cli(env, "runs", "list", "--model", "credit", "--json"))
    assert [r["id"] for r in listed] == [run["id"]]
    assert json.loads(cli(env, "runs", "show", str(run["id"]), "--json"))["status"] == "succeeded"
    assert "training on 60 rows" in cli(env, "runs", "logs", str(run["id"]))
    assert "reproduced" in cli(env, "reproduce", "credit:2")
    refused = cli(env, "reproduce", "credit:1", code=2)
    assert refused == "" or "not made by a training run" in refused


def test_a_run_that_fails_says_why_and_exits_non_zero(env: dict[str, str], tmp_path: Path) -> None:
    source = write_source(tmp_path / "code", "def fit(context):\n    raise ValueError('no rows')\n")
    data = write_data(tmp_path / "data.csv")
    cli(
        env,
        "pipelines",
        "create",
        "credit",
        "--local",
        str(source),
        "--data",
        str(data),
        "--entry-point",
        "train:fit",
        "--target",
        "approved",
        "--trust",
        "our code",
    )
    done = steward_cli("retrain", "credit", "--wait", env=env)
    assert done.returncode == 1
    assert "failed (the pipeline raised ValueError: no rows)" in done.stdout


def test_only_trainers_define_pipelines_and_start_runs(
    credit: Steward, env: dict[str, str], tmp_path: Path
) -> None:
    spec = pipeline_of(
        write_source(tmp_path / "code", DETERMINISTIC), write_data(tmp_path / "d.csv")
    )
    url = env["STEWARD_URL"]
    viewer = {"Authorization": f"Bearer {token_for(credit, 'viewer')}"}
    scientist = {"Authorization": f"Bearer {token_for(credit, 'data-scientist', 'dana')}"}
    with httpx.Client(base_url=url, timeout=60) as http:
        assert http.put("/api/v1/pipelines/credit", json=spec, headers=viewer).status_code == 403
        made = http.put("/api/v1/pipelines/credit", json=spec, headers=scientist)
        assert made.status_code == 201 and made.json()["trusted"] is False
        assert http.post("/api/v1/pipelines/credit/trust", headers=scientist).status_code == 403
        asked = http.post("/api/v1/runs", json={"model": "credit"}, headers=scientist)
        assert (
            asked.status_code == 422 and "trust is not granted" in asked.json()["error"]["message"]
        )
        assert (
            http.post("/api/v1/runs", json={"model": "credit"}, headers=viewer).status_code == 403
        )
        assert http.get("/api/v1/runs", headers=viewer).json() == []
        bad = http.put(
            "/api/v1/pipelines/credit", json={**spec, "entry_point": "x"}, headers=scientist
        )
        assert bad.status_code == 422 and "entry_point" in bad.json()["error"]["message"]
