"""Ground truth posted later joins its predictions by request id or business key."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelsteward.errors import InvalidInput, PayloadTooLarge
from modelsteward.serving.labels import MAX_ITEMS, LabelStore
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["local", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "logs")
    return f"memory://labels-{uuid.uuid4().hex}"


@pytest.fixture
def log(root: str) -> Iterator[PredictionLog]:
    log = PredictionLog(root, flush_interval_s=3600)
    for i in range(4):
        log.record(
            PredictionRecord(
                request_id=f"r{i}",
                at=T0 + timedelta(minutes=i),
                deployment="churn",
                model="churn-model",
                version=1,
                route="champion",
                inputs=[{"age": 30 + i}],
                outputs=[i % 2],
                latency_ms=1.0,
                status=200,
                key=f"customer-{i}",
            )
        )
    log.flush()
    yield log
    log.close()


@pytest.fixture
def labels(root: str) -> LabelStore:
    return LabelStore(root)


def labels_by_request(store: LabelStore, log: PredictionLog) -> dict[str, Any]:
    table = store.joined(log, "churn")
    return dict(
        zip(table.column("request_id").to_pylist(), table.column("label").to_pylist(), strict=True)
    )


def test_labels_join_their_predictions_by_request_id(
    labels: LabelStore, log: PredictionLog
) -> None:
    posted = labels.post(
        "churn",
        [
            {"request_id": "r1", "label": 1},
            {"request_id": "r2", "label": "cat"},
            {"request_id": "r9", "label": 0},
        ],
    )
    assert posted.accepted == 3 and labels.matched(log, "churn", posted) == 2  # r9 was never logged
    assert labels_by_request(labels, log) == {"r0": None, "r1": "1", "r2": '"cat"', "r3": None}
    joined = labels.joined(log, "churn")
    assert joined.column_names[-2:] == ["label", "label_at"] and joined.num_rows == 4
    assert joined.column("inputs").to_pylist()[0] == '[{"age":30}]'


def test_labels_join_their_predictions_by_business_key(
    labels: LabelStore, log: PredictionLog
) -> None:
    labels.post("churn", [{"key": "customer-3", "label": True}, {"key": "unknown", "label": 0}])
    assert labels_by_request(labels, log) == {"r0": None, "r1": None, "r2": None, "r3": "true"}


def test_the_latest_label_wins(labels: LabelStore, log: PredictionLog) -> None:
    later, earlier = (T0 + timedelta(days=2)).isoformat(), (T0 + timedelta(days=1)).isoformat()
    labels.post("churn", [{"request_id": "r0", "label": 1, "at": later}])
    labels.post("churn", [{"request_id": "r0", "label": 0, "at": earlier}])  # posted later, older
    labels.post("churn", [{"request_id": "r1", "label": 0}, {"request_id": "r1", "label": 1}])
    labels.post("churn", [{"request_id": "r2", "label": 0, "at": earlier}])
    by_key = labels.post("churn", [{"key": "customer-2", "label": 1, "at": later}])  # newer
    assert labels.matched(log, "churn", by_key) == 1
    assert labels.matched(log, "churn", labels.post("churn", [{"key": "x", "label": 1}])) == 0
    result = labels_by_request(labels, log)
    assert (result["r0"], result["r1"], result["r2"]) == ("1", "1", "1")
    joined = labels.joined(log, "churn").to_pylist()
    assert joined[0]["label_at"] == T0 + timedelta(days=2)


def test_bulk_csv_upload_from_bytes_and_from_a_file(
    labels: LabelStore, log: PredictionLog, tmp_path: Path
) -> None:
    assert labels.post_file("churn", b"request_id,label\nr0,1\nr1,0\n", "csv").accepted == 2
    path = tmp_path / "by-key.csv"
    path.write_text("key,label,at\ncustomer-2,0.5,2024-05-02T00:00:00+00:00\n007,2,\n")
    assert labels.post_file("churn", path, "csv").accepted == 2
    assert labels_by_request(labels, log) == {"r0": "1", "r1": "0", "r2": "0.5", "r3": None}
    assert labels.read("churn").column("key").to_pylist().count("007") == 1  # ids stay text


def test_bulk_parquet_upload(labels: LabelStore, log: PredictionLog) -> None:
    buffer = io.BytesIO()
    table = pa.table({"request_id": ["r3", "r0"], "label": ["yes", "no"]})
    pq.write_table(table, buffer)
    assert labels.post_file("churn", buffer.getvalue(), "parquet").accepted == 2
    assert labels_by_request(labels, log) == {"r0": '"no"', "r1": None, "r2": None, "r3": '"yes"'}


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("secret-value", "must be an object"),
        ({"label": 1}, "exactly one of request_id or key"),
        ({"request_id": "r1", "key": "k", "label": 1}, "exactly one of request_id or key"),
        ({"request_id": 12, "label": 1}, "request_id must be a string"),
        ({"key": "x" * 300, "label": 1}, "key must be a string"),
        ({"request_id": "r1"}, "label is missing"),
        ({"request_id": "r1", "label": ["secret-value"]}, "label must be a string"),
        ({"request_id": "r1", "label": float("nan")}, "finite number"),
        ({"request_id": "r1", "label": 1, "at": "secret-value"}, "ISO-8601"),
        ({"request_id": "r1", "label": 1, "at": "2024-05-01T10:00:00"}, "time zone"),
        ({"request_id": "r1", "label": 1, "secret-value": 2}, "unexpected fields"),
    ],
)
def test_a_bad_item_is_refused_by_index_and_nothing_is_written(
    labels: LabelStore, bad: Any, problem: str
) -> None:
    items = [{"request_id": "r0", "label": 1}, {"key": "customer-1", "label": 0}, bad]
    with pytest.raises(InvalidInput) as caught:
        labels.post("churn", items)
    assert caught.value.message.startswith("labels[2]: ") and problem in caught.value.message
    assert "secret-value" not in caught.value.message
    assert labels.read("churn").num_rows == 0


def test_bad_bulk_files_are_refused_with_the_row_and_nothing_is_written(labels: LabelStore) -> None:
    with pytest.raises(InvalidInput, match=r"^row 2: label is missing"):
        labels.post_file("churn", b"request_id,label\nr0,1\nr1,\n", "csv")
    with pytest.raises(InvalidInput, match="columns must be"):
        labels.post_file("churn", b"request_id,label,email\nr0,1,a@b.c\n", "csv")
    with pytest.raises(InvalidInput, match="could not be read"):
        labels.post_file("churn", b"not parquet at all", "parquet")
    with pytest.raises(InvalidInput, match="format"):
        labels.post_file("churn", b"request_id,label\n", "json")  # type: ignore[arg-type]
    assert labels.read("churn").num_rows == 0


def test_limits_and_names_are_enforced(labels: LabelStore) -> None:
    with pytest.raises(PayloadTooLarge):
        labels.post("churn", [{"request_id": "r", "label": 1}] * (MAX_ITEMS + 1))
    with pytest.raises(InvalidInput):
        labels.post("../churn", [{"request_id": "r", "label": 1}])
    with pytest.raises(InvalidInput):
        labels.post("churn", {"request_id": "r", "label": 1})  # type: ignore[arg-type]
    assert labels.post("churn", []).accepted == 0
    assert labels.read("churn").num_rows == 0
