"""A run trains in its own process, under its limits, and either registers a traced
candidate or fails with a reason and registers nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import training_frame
from tests.training.conftest import (
    DETERMINISTIC,
    HANGS,
    HOGS,
    NO_MODEL,
    RAISES,
    REGRESSOR,
    pipeline_of,
    write_data,
    write_source,
)

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.loading import load_model
from modelsteward.registry.versions import get_version, list_versions
from modelsteward.store.fsck import run_fsck
from modelsteward.training.execution import LEASE_S, claim, execute, reap_abandoned, run_folder
from modelsteward.training.pipelines import create_pipeline
from modelsteward.training.runs import get_run, request_run, run_log


def run_once(steward: Steward, tmp_path: Path, code: str, **extra: object) -> dict:
    source = write_source(tmp_path / "src", code)
    create_pipeline(
        steward, SYSTEM, "credit", pipeline_of(source, write_data(tmp_path / "d.csv"), **extra)
    )
    run = request_run(steward, "ann", "credit", cause="manual by ann")
    assert run["status"] == "queued"
    assert claim(steward, run["id"])
    return execute(steward, run["id"])


def test_a_succeeded_run_registers_the_candidate_with_its_lineage(
    credit: Steward, tmp_path: Path
) -> None:
    ended = run_once(credit, tmp_path, DETERMINISTIC)
    assert ended["status"] == "succeeded", ended["reason"]
    run = get_run(credit, ended["run_id"])
    assert run["version"] == 2 and run["model"] == "credit"
    assert run["progress"] == {"fraction": 0.5, "message": "half way"}
    candidate = get_version(credit, "credit", 2)
    training = candidate.metadata["training"]
    assert candidate.lineage["parent_version"] == 1
    assert training["run_id"] == run["id"] and training["cause"] == "manual by ann"
    assert training["rows"] == 60 and len(training["data_hash"]) == 64
    assert len(training["code_hash"]) == 64
    assert training["params"] == {"C": 0.5} and training["seed"] == 7
    assert "scikit-learn" in training["libraries"]
    assert 0.5 <= candidate.metrics["accuracy"] <= 1.0
    assert "training on 60 rows" in run_log(credit, run["id"])
    report = run_fsck(credit)  # the data snapshot and the log are known blobs, not litter
    assert report.ok and report.orphan_blobs == ()
    loaded = load_model(credit, "credit", 2)
    frame, _ = training_frame(rows=5)
    assert len(loaded.predict(frame)) == 5


def test_a_run_whose_supervising_process_is_killed_is_failed_once_its_lease_runs_out(
    credit: Steward, tmp_path: Path
) -> None:
    source = write_source(tmp_path / "src", HANGS)
    create_pipeline(credit, SYSTEM, "credit", pipeline_of(source, write_data(tmp_path / "d.csv")))
    run = request_run(credit, "ann", "credit", cause="manual")
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, str(credit.settings.home), str(run["id"])],
        env={**os.environ, "STEWARD_HOME": str(credit.settings.home)},
    )
    try:
        deadline = time.monotonic() + 60
        while "about to hang" not in run_log(credit, run["id"]):
            assert time.monotonic() < deadline and supervisor.poll() is None
            time.sleep(0.1)
        assert get_run(credit, run["id"])["status"] == "running"
    finally:
        supervisor.kill()  # the server process crashes mid-run
        supervisor.wait()
    assert reap_abandoned(credit) == 0  # the lease has not run out yet
    assert reap_abandoned(credit, now=time.time() + LEASE_S + 1) == 1
    shown = get_run(credit, run["id"])
    assert shown["status"] == "failed" and "lease ran out" in shown["reason"]
    assert not child_alive(credit, run["id"]), "the orphaned training process kept running"


def child_alive(steward: Steward, run_id: int) -> bool:
    """Whether a process still runs the run's job (waits up to 10 s for it to stop)."""
    job = str(run_folder(steward, run_id) / "out" / "job.json")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", job], capture_output=True, text=True)
        if not found.stdout.strip():
            return False
        time.sleep(0.2)
    return True


SUPERVISE = """
import sys
from tests.helpers import training_frame

from modelsteward.context import Steward
from modelsteward.registry.loading import load_model
from modelsteward.store.fsck import run_fsck
from modelsteward.training.execution import claim, execute
steward = Steward()
assert claim(steward, int(sys.argv[2]))
execute(steward, int(sys.argv[2]))
"""


@pytest.mark.parametrize(
    ("code", "extra", "reason"),
    [
        (RAISES, {}, "the pipeline raised RuntimeError: the features are all missing"),
        (NO_MODEL, {}, "returned no model"),
        (HANGS, {"timeout_s": 3}, "timed out after 3 s"),
        (HOGS, {"memory_mb": 700}, "ran out of memory (limit 700 MB)"),
        (REGRESSOR, {}, "does not match the champion's"),
    ],
    ids=["raises", "no-model", "hangs", "memory-hog", "wrong-output-schema"],
)
def test_a_failing_pipeline_fails_the_run_with_a_reason_and_registers_nothing(
    credit: Steward, tmp_path: Path, code: str, extra: dict, reason: str
) -> None:
    ended = run_once(credit, tmp_path, code, **extra)
    assert ended["status"] == "failed"
    assert reason in ended["reason"]
    assert [v.version for v in list_versions(credit, "credit")] == [1]


def test_a_run_whose_process_died_is_failed_by_the_reaper_never_left_running(
    credit: Steward, tmp_path: Path
) -> None:
    source = write_source(tmp_path / "src", DETERMINISTIC)
    create_pipeline(credit, SYSTEM, "credit", pipeline_of(source, write_data(tmp_path / "d.csv")))
    run = request_run(credit, "ann", "credit", cause="manual")
    assert claim(credit, run["id"])  # claimed by a process that then vanished
    assert reap_abandoned(credit) == 0  # its lease is still current
    assert reap_abandoned(credit, now=4_000_000_000.0) == 1
    shown = get_run(credit, run["id"])
    assert shown["status"] == "failed" and "interrupted" in shown["reason"]
