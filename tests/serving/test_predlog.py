"""The prediction log keeps every acknowledged record, off the request path, partitioned by hour."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelsteward.errors import InvalidInput
from modelsteward.serving import predlog
from modelsteward.serving.logrows import Rows
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def rec(
    request_id: str, *, at: datetime = T0, deployment: str = "churn", **kw: Any
) -> PredictionRecord:
    fields: dict[str, Any] = {
        "model": "churn-model",
        "version": 3,
        "route": "champion",
        "inputs": [{"age": 40, "income": 51.5}],
        "outputs": [0.73],
        "latency_ms": 2.5,
        "status": 200,
        "key": f"customer-{request_id}",
    }
    fields.update(kw)
    return PredictionRecord(request_id=request_id, at=at, deployment=deployment, **fields)


@pytest.fixture(params=["local", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "logs")
    return f"memory://predlog-{uuid.uuid4().hex}"


@pytest.fixture
def log(root: str) -> Iterator[PredictionLog]:
    log = PredictionLog(root, flush_interval_s=0.02)
    yield log
    log.close()


def test_records_from_eight_threads_are_all_readable_after_close(root: str) -> None:
    log = PredictionLog(root, flush_interval_s=0.01, max_buffer=50)
    start = threading.Barrier(8)

    def produce(worker: int) -> None:
        start.wait()
        for i in range(500):
            log.record(rec(f"{worker}-{i}", at=T0 + timedelta(seconds=i)))

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    ids = log.read("churn").column("request_id").to_pylist()
    assert len(ids) == 8 * 500 and set(ids) == {f"{w}-{i}" for w in range(8) for i in range(500)}


def test_close_writes_everything_buffered_and_can_be_called_twice(root: str) -> None:
    log = PredictionLog(root, flush_interval_s=3600)
    for i in range(25):
        log.record(rec(str(i)))
    assert log.pending() == 25 and log.read("churn").num_rows == 0
    log.close()
    log.close()
    assert log.pending() == 0 and log.read("churn").num_rows == 25
    log.record(rec("late"))  # after close a record is written at once, never dropped
    assert "late" in log.read("churn").column("request_id").to_pylist()


def test_rows_keep_every_field_with_inputs_and_outputs_as_json(log: PredictionLog) -> None:
    log.record(rec("r1", inputs=[{"a": 1}, {"a": 2}], outputs=["x", "y"], status=500, error="boom"))
    log.flush()
    row = log.read("churn").to_pylist()[0]
    assert row == {
        "request_id": "r1",
        "at": T0,
        "deployment": "churn",
        "model": "churn-model",
        "version": 3,
        "route": "champion",
        "inputs": '[{"a":1},{"a":2}]',
        "outputs": '["x","y"]',
        "n_rows": 2,
        "latency_ms": 2.5,
        "status": 500,
        "key": "customer-r1",
        "error": "boom",
    }


def test_a_request_body_kept_as_bytes_is_read_back_as_its_text(log: PredictionLog) -> None:
    body = b'[{"a": 1.5}, {"a": 2.5}]'
    log.record(rec("r1", inputs=Rows(pd.DataFrame({"a": [1.5, 2.5]}), body)))
    log.record(rec("r2", inputs=Rows(pd.DataFrame({"a": [3.5]}), '[{"a": 3.5}]')))
    many = pd.DataFrame({"a": [0.25] * 5000})  # a body large enough to be wrapped, not copied
    large = json.dumps(many.to_dict("records")).encode()
    log.record(rec("r3", inputs=Rows(many, large)))
    log.flush()
    table = log.read("churn")
    assert table.column("inputs").to_pylist() == [body.decode(), '[{"a": 3.5}]', large.decode()]
    assert table.column("n_rows").to_pylist() == [2, 1, 5000]


def test_an_unknown_part_file_codec_is_refused(root: str) -> None:
    with pytest.raises(InvalidInput, match="compression must be one of"):
        PredictionLog(root, compression="rar")


def test_files_are_partitioned_by_deployment_and_hour(log: PredictionLog) -> None:
    log.record(rec("a1", deployment="churn", at=T0 + timedelta(minutes=5)))
    log.record(rec("a2", deployment="churn", at=T0 + timedelta(hours=1, minutes=5)))
    log.record(rec("b1", deployment="fraud.v2", at=T0 + timedelta(minutes=59)))
    log.flush()
    relative = sorted(p.removeprefix(log.root + "/") for p in log.fs.find(log.root))
    assert [p.rsplit("/", 1)[0] for p in relative] == [
        "deployment=churn/hour=2024-05-01T10",
        "deployment=churn/hour=2024-05-01T11",
        "deployment=fraud.v2/hour=2024-05-01T10",
    ]
    assert all(p.rsplit("/", 1)[1].startswith("part-") and p.endswith(".parquet") for p in relative)
    assert log.read("churn").column("request_id").to_pylist() == ["a1", "a2"]
    assert log.read("fraud.v2").column("deployment").to_pylist() == ["fraud.v2"]
    assert log.read("never-served").num_rows == 0


def test_reading_a_time_window_includes_since_and_excludes_until(log: PredictionLog) -> None:
    for minutes in range(0, 180, 15):
        log.record(rec(f"m{minutes}", at=T0 + timedelta(minutes=minutes)))
    log.flush()
    window = log.read("churn", since=T0 + timedelta(minutes=45), until=T0 + timedelta(minutes=90))
    assert window.column("request_id").to_pylist() == ["m45", "m60", "m75"]
    assert log.read("churn", since=T0 + timedelta(hours=2)).num_rows == 4
    assert log.read("churn", until=T0 + timedelta(minutes=1)).num_rows == 1
    with pytest.raises(InvalidInput):
        log.read("churn", since=datetime(2024, 5, 1, 10))


def test_record_returns_at_once_while_a_flush_is_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writing, release = threading.Event(), threading.Event()
    real_write = predlog.write_parquet_atomically

    def stuck_write(*args: Any, **kwargs: Any) -> str:
        writing.set()
        release.wait(60)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(predlog, "write_parquet_atomically", stuck_write)
    log = PredictionLog(str(tmp_path / "logs"), flush_interval_s=0.01)
    log.record(rec("first"))
    assert writing.wait(5)
    records = [rec(str(i)) for i in range(10_000)]
    recording = threading.Thread(target=lambda: [log.record(r) for r in records])
    recording.start()
    recording.join(30)
    # every record was accepted while the flush is still stuck: record() never waits on it
    assert not recording.is_alive() and not release.is_set()
    release.set()
    log.close()
    assert log.read("churn").num_rows == 10_001


def test_a_writer_far_behind_makes_record_flush_instead_of_dropping(root: str) -> None:
    log = PredictionLog(root, flush_interval_s=3600, max_buffer=10)
    for i in range(10 * predlog.BACKLOG_FACTOR):
        log.record(rec(str(i)))
    assert log.pending() == 0 and log.read("churn").num_rows == 10 * predlog.BACKLOG_FACTOR
    log.close()


def test_a_failed_write_keeps_the_records_for_the_next_flush(
    log: PredictionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = predlog.write_parquet_atomically
    monkeypatch.setattr(predlog, "write_parquet_atomically", _failing)
    log.record(rec("a", at=T0))
    log.record(rec("b", at=T0 + timedelta(hours=1)))
    with pytest.raises(OSError):
        log.flush()
    assert log.pending() == 2
    monkeypatch.setattr(predlog, "write_parquet_atomically", real_write)
    log.flush()
    assert log.read("churn").column("request_id").to_pylist() == ["a", "b"]


def _failing(*args: Any, **kwargs: Any) -> str:
    raise OSError("disk full")


def test_unfinished_temporary_files_are_invisible_to_readers(log: PredictionLog) -> None:
    log.record(rec("done"))
    log.flush()
    hour_dir = f"{log.root}/deployment=churn/hour=2024-05-01T10"
    with log.fs.open(f"{hour_dir}/.part-{uuid.uuid4().hex}.parquet.tmp", "wb") as half:
        half.write(b"PAR1 half a file")
    assert log.read("churn").column("request_id").to_pylist() == ["done"]


@pytest.mark.parametrize(
    "name", ["../outside", "a/b", "deployment=x", "", ".hidden", "a b", "x" * 200]
)
def test_a_hostile_deployment_name_is_refused(log: PredictionLog, name: str) -> None:
    with pytest.raises(InvalidInput):
        rec("r", deployment=name)
    with pytest.raises(InvalidInput):
        log.read(name)
    assert log.fs.find(log.root) == []


def test_records_must_be_well_formed() -> None:
    with pytest.raises(InvalidInput):
        rec("r", route="sideways")
    with pytest.raises(InvalidInput):
        rec("r", at=datetime(2024, 5, 1, 10))
    with pytest.raises(InvalidInput):
        rec("r", version="3")


def test_numpy_values_are_logged_as_plain_json(log: PredictionLog) -> None:
    np = pytest.importorskip("numpy")
    log.record(
        rec(
            "np", inputs=[{"age": np.int64(41), "score": np.float32(0.5)}], outputs=[np.bool_(True)]
        )
    )
    log.flush()
    row = log.read("churn").to_pylist()[0]
    assert (row["inputs"], row["outputs"]) == ('[{"age":41,"score":0.5}]', "[true]")
