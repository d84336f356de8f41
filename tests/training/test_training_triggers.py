"""``retrain.requested`` starts one run per (model, cause, data snapshot); a model with no
pipeline gets ``retrain.skipped`` with the reason; the ``training.runs`` job trains it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.helpers import recorded, settle
from tests.training.conftest import DETERMINISTIC, pipeline_of, write_data, write_source

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.actions.emit_event import EmitEventParams
from modelsteward.training.jobs import start_queued
from modelsteward.training.pipelines import create_pipeline
from modelsteward.training.runs import get_run, list_runs, request_run


def ask(steward: Steward, model: str, cause: str, times: int = 1) -> None:
    for _ in range(times):
        with steward.change("remediation") as change:
            change.record(
                "retrain.requested",
                "model",
                model,
                payload={
                    "model": model,
                    "version": None,
                    "cause": cause,
                    "requested_by": "remediation",
                    "remediation_id": 12,
                },
            )


def test_a_burst_of_identical_requests_starts_one_run_which_the_job_trains(
    any_credit: Steward, tmp_path: Path
) -> None:
    credit = any_credit
    source = write_source(tmp_path / "src", DETERMINISTIC)
    data = write_data(tmp_path / "d.csv")
    create_pipeline(credit, SYSTEM, "credit", pipeline_of(source, data))
    ask(credit, "credit", "alert 12", times=100)
    settle(credit)
    runs = list_runs(credit, model="credit")
    assert len(runs) == 1
    assert runs[0]["cause"] == "alert 12" and runs[0]["remediation_id"] == 12
    ask(credit, "credit", "alert 13")  # another cause is another run
    settle(credit)
    assert len(list_runs(credit, model="credit")) == 2
    start_queued(credit)
    deadline = time.monotonic() + 120
    while any(get_run(credit, r["id"])["status"] not in ("succeeded", "failed") for r in runs):
        assert time.monotonic() < deadline, "the run never finished"
        time.sleep(0.1)
        start_queued(credit)
    assert get_run(credit, runs[0]["id"])["status"] == "succeeded"
    names = [e.name for e in recorded(credit, "run.queued", "run.started", "run.succeeded")]
    assert names[:1] == ["run.queued"] and "run.succeeded" in names


def test_a_request_for_a_model_without_a_pipeline_is_recorded_as_skipped(credit: Steward) -> None:
    ask(credit, "credit", "alert 12")
    settle(credit)
    skipped = recorded(credit, "retrain.skipped")
    assert len(skipped) == 1
    assert skipped[0].payload["reason"] == "model 'credit' has no retraining pipeline"
    assert list_runs(credit) == []


def test_identical_requests_at_the_same_moment_share_one_run(
    any_credit: Steward, tmp_path: Path
) -> None:
    source = write_source(tmp_path / "src", DETERMINISTIC)
    create_pipeline(
        any_credit, SYSTEM, "credit", pipeline_of(source, write_data(tmp_path / "d.csv"))
    )
    start = threading.Barrier(8)

    def ask_now(_: int) -> dict:
        start.wait()
        return request_run(any_credit, "remediation", "credit", cause="alert 12")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask_now, range(8)))
    assert len({a["id"] for a in answers}) == 1
    assert sum(not a["deduplicated"] for a in answers) == 1
    assert len(list_runs(any_credit)) == 1


@pytest.mark.parametrize("name", ["run.succeeded", "pipeline.trusted", "retrain.requested"])
def test_a_life_cycle_cannot_forge_training_events(name: str) -> None:
    with pytest.raises(ValidationError, match="belongs to a service"):
        EmitEventParams(name=name)
