"""Reading a window of the prediction log: partitions, rows, types, labels, routes, sampling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from modelsteward.monitoring.windows import LogFiles, read_window
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def record(request_id: str, at: datetime, **fields: Any) -> PredictionRecord:
    values: dict[str, Any] = {
        "model": "churn",
        "version": 1,
        "route": "champion",
        "inputs": [{"age": 40, "city": "paris"}],
        "outputs": [1],
        "latency_ms": 2.0,
        "status": 200,
    }
    values.update(fields)
    return PredictionRecord(request_id=request_id, at=at, deployment="churn", **values)


@pytest.fixture(params=["local", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "logs")
    return f"memory://windows-{uuid.uuid4().hex}"


def write(root: str, *records: PredictionRecord) -> None:
    with PredictionLog(root) as log:
        for rec in records:
            log.record(rec)


def test_a_time_window_reads_only_the_hours_it_overlaps(root: str) -> None:
    write(
        root,
        record("old", NOW - timedelta(hours=5)),
        record("in", NOW - timedelta(minutes=20)),
        record("future", NOW + timedelta(minutes=5)),
    )
    files = LogFiles(root)
    assert len(files.files("churn", None, NOW)) == 2
    assert len(files.files("churn", NOW - timedelta(hours=1), NOW)) == 1
    window = read_window(root, "churn", now=NOW, hours=1)
    assert window.meta.column("request_id").to_pylist() == ["in"]
    assert window.start == NOW - timedelta(hours=1) and window.end == NOW


def test_each_row_of_a_request_becomes_one_prediction_with_typed_columns(root: str) -> None:
    write(
        root,
        record(
            "many",
            NOW - timedelta(minutes=1),
            inputs=[{"age": 30, "city": "rome"}, {"age": 31.5, "city": None}, {"age": None}],
            outputs=[{"label": "a", "probability": 0.2}, {"label": "b", "probability": 0.9}, {}],
        ),
    )
    window = read_window(root, "churn", now=NOW, hours=1)
    assert window.rows == 3
    assert window.inputs.to_pydict() == {"age": [30.0, 31.5, None], "city": ["rome", None, None]}
    assert window.outputs.column("probability").to_pylist() == [0.2, 0.9, None]
    assert window.outputs.column("label").to_pylist() == ["a", "b", None]
    assert set(window.meta.column_names) >= {"request_id", "at", "version", "route", "latency_ms"}


def test_a_column_with_text_among_numbers_stays_text(root: str) -> None:
    write(
        root,
        record("a", NOW - timedelta(minutes=2), inputs=[{"age": 40}]),
        record("b", NOW - timedelta(minutes=1), inputs=[{"age": "forty"}]),
    )
    window = read_window(root, "churn", now=NOW, hours=1)
    assert window.inputs.column("age").to_pylist() == ["40", "forty"]


def test_failed_requests_and_shadow_copies_are_left_out_by_default(root: str) -> None:
    at = NOW - timedelta(minutes=1)
    write(
        root,
        record("ok", at),
        record("ok", at, route="shadow", version=2),
        record("bad", at, status=500, inputs=[], outputs=[], error="boom"),
    )
    assert read_window(root, "churn", now=NOW, hours=1).meta.column("route").to_pylist() == [
        "champion"
    ]
    shadow = read_window(root, "churn", now=NOW, hours=1, route="shadow")
    assert shadow.meta.column("version").to_pylist() == [2]


def test_the_last_n_predictions_reach_back_across_hours(root: str) -> None:
    write(root, *[record(f"r{i:02d}", NOW - timedelta(minutes=15 * i + 1)) for i in range(12)])
    window = read_window(root, "churn", now=NOW, last=6)
    assert sorted(window.meta.column("request_id").to_pylist()) == [f"r{i:02d}" for i in range(6)]
    assert window.start == NOW - timedelta(minutes=76)


def test_labels_join_by_request_id_or_key_and_the_latest_wins(root: str) -> None:
    at = NOW - timedelta(minutes=5)
    write(root, record("r1", at), record("r2", at, key="customer-2"), record("r3", at))
    store = LabelStore(root)
    store.post("churn", [{"request_id": "r1", "label": 0, "at": "2024-05-01T12:00:00+00:00"}])
    store.post("churn", [{"request_id": "r1", "label": 1, "at": "2024-05-01T12:10:00+00:00"}])
    store.post("churn", [{"key": "customer-2", "label": "yes"}])
    window = read_window(root, "churn", now=NOW, hours=1, labels=True)
    assert window.labels is not None
    assert window.labels.column("label").to_pylist() == ["1", "yes", None]
    assert window.labels.column("label_number").to_pylist() == [1.0, None, None]


def test_a_window_larger_than_max_rows_is_a_reproducible_sample_of_about_that_size(
    root: str,
) -> None:
    rows = [{"age": i} for i in range(500)]
    write(root, record("big", NOW - timedelta(minutes=1), inputs=rows, outputs=[0] * 500))
    first = read_window(root, "churn", now=NOW, hours=1, max_rows=100)
    again = read_window(root, "churn", now=NOW, hours=1, max_rows=100)
    assert 60 <= first.rows <= 140 and first.total_rows == 500 and first.sampled
    assert first.inputs.column("age").to_pylist() == again.inputs.column("age").to_pylist()


def test_a_deployment_without_a_log_gives_an_empty_window(root: str) -> None:
    window = read_window(root, "never-served", now=NOW, hours=1, labels=True)
    assert window.rows == 0 and window.inputs.num_columns == 0
    assert read_window(root, "never-served", now=NOW, last=10).start is None
