"""A run trains in its own process, under its limits, and either registers a traced
candidate or fails with a reason and registers nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
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
from modelsteward.registry.versions import get_version, list_versions
from modelsteward.training.execution import claim, execute, reap_abandoned
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
