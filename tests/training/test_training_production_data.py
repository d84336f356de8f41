""" "Recent labelled production data": a deployment's logged requests that have a label,
over a window, are the training data (the label as the target column)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.helpers import training_frame
from tests.training.conftest import DETERMINISTIC, pipeline_of, write_data, write_source

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.versions import get_version
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.training.execution import claim, execute
from modelsteward.training.pipelines import create_pipeline
from modelsteward.training.runs import list_runs, request_run
from modelsteward.training.schedules import request_on_new_labels

PRODUCTION = {"kind": "production", "deployment": "credit-prod", "window_hours": 24}


def serve_and_label(steward: Steward, rows: int, labelled: int) -> None:
    frame, labels = training_frame(rows=rows, seed=3)
    now = datetime.now(UTC)
    with PredictionLog(steward.settings.logs_url) as log:
        for i, row in enumerate(frame.to_dict("records")):
            log.record(
                PredictionRecord(
                    request_id=f"r{i}",
                    at=now - timedelta(minutes=rows - i),
                    deployment="credit-prod",
                    model="credit",
                    version=1,
                    route="champion",
                    inputs=[{"age": int(row["age"]), "income": float(row["income"])}],
                    outputs=[0],
                    latency_ms=1.0,
                    status=200,
                )
            )
    LabelStore(steward.settings.logs_url).post(
        "credit-prod",
        [{"request_id": f"r{i}", "label": int(labels[i])} for i in range(labelled)],
    )


def test_a_run_trains_on_the_labelled_requests_of_the_window(
    credit: Steward, tmp_path: Path
) -> None:
    serve_and_label(credit, rows=50, labelled=40)
    source = write_source(tmp_path / "src", DETERMINISTIC)
    spec = {**pipeline_of(source, write_data(tmp_path / "d.csv")), "data": PRODUCTION}
    create_pipeline(credit, SYSTEM, "credit", spec)
    run = request_run(credit, "ann", "credit", cause="alert 12")
    claim(credit, run["id"])
    ended = execute(credit, run["id"])
    assert ended["status"] == "succeeded", ended["reason"]
    assert get_version(credit, "credit", ended["version"]).metadata["training"]["rows"] == 40


def test_a_window_without_labels_is_a_clear_refusal(credit: Steward, tmp_path: Path) -> None:
    serve_and_label(credit, rows=10, labelled=0)
    source = write_source(tmp_path / "src", DETERMINISTIC)
    create_pipeline(
        credit,
        SYSTEM,
        "credit",
        {**pipeline_of(source, write_data(tmp_path / "d.csv")), "data": PRODUCTION},
    )
    with pytest.raises(InvalidInput, match="has no labelled requests in the last 24 hours"):
        request_run(credit, "ann", "credit", cause="alert 12")


def test_enough_new_labels_request_a_run_once(credit: Steward, tmp_path: Path) -> None:
    serve_and_label(credit, rows=50, labelled=10)
    source = write_source(tmp_path / "src", DETERMINISTIC)
    data = {**PRODUCTION, "retrain_after_new_rows": 20}
    create_pipeline(
        credit,
        SYSTEM,
        "credit",
        {**pipeline_of(source, write_data(tmp_path / "d.csv")), "data": data},
    )
    assert request_on_new_labels(credit, force=True) == 0  # labels from before the pipeline
    _, labels = training_frame(rows=50, seed=3)
    store = LabelStore(credit.settings.logs_url)
    store.post(
        "credit-prod", [{"request_id": f"r{i}", "label": int(labels[i])} for i in range(10, 25)]
    )
    assert request_on_new_labels(credit, force=True) == 0  # 15 new: not yet
    store.post(
        "credit-prod", [{"request_id": f"r{i}", "label": int(labels[i])} for i in range(25, 30)]
    )
    assert request_on_new_labels(credit, force=True) == 1
    (run,) = list_runs(credit, model="credit")
    assert run["cause"].startswith("20 new labelled rows since ")
    assert request_on_new_labels(credit, force=True) == 0  # counted again from that run
