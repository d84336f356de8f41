"""Adaptive batching: concurrent requests share predict calls and still get their own answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.helpers import (
    admin_token_of,
    fitted_model,
    follow_no_lifecycle,
    settings_for,
    sklearn_spec,
    skops_file,
    upload,
    version_form,
)
from tests.serving.test_deployments import SCHEMA, deploy

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.serving.batching import Batcher, split

# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

PREDICT = "/api/v1/deployments/churn-production/predict"
# A model this cheap is otherwise answered on the event loop, one request after another,
# where there is nothing to batch (see serving.costs); these tests are about batching.
ON_THREADS = {"STEWARD_INLINE_PREDICT_MS": "0"}
# Answers, for every row, how many rows its predict call had; rows aged -1 make it fail.
ROW_COUNTER = """
class RowCounter:
    def predict(self, frame):
        if (frame["age"] < 0).any():
            raise ValueError("age must not be negative")
        return [len(frame)] * len(frame)
"""


@contextmanager
def server_with(tmp_path: Path, **env: str) -> Iterator[httpx.Client]:
    """A live server whose settings come from ``env``, and an admin client for it."""
    steward = follow_no_lifecycle(Steward(settings_for(tmp_path / "home", **env)))
    ensure_bootstrap_admin(steward)
    try:
        with serve_in_thread(steward) as url:
            headers = {"Authorization": f"Bearer {admin_token_of(steward)}"}
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                yield client
    finally:
        steward.close()


def register_row_counter(api: httpx.Client, tmp_path: Path) -> None:
    source = tmp_path / "counter.py"
    source.write_text(ROW_COUNTER)
    spec = {
        "flavor": "python",
        "files": [{"role": "model", "name": "counter.py"}],
        "input_schema": SCHEMA,
        "flavor_options": {"module": "counter", "class": "RowCounter"},
        "trust_reason": "test double that reports its batch sizes",
    }
    api.post("/api/v1/models", json={"name": "churn"})
    created = api.post(
        "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(source)]
    )
    assert created.status_code == 201, created.text
    assert deploy(api, 1)["status"] == "applied"


def in_parallel(threads: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` on ``threads`` threads that start together; re-raise the first failure."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as exc:  # surfaced in the test's thread below
            failures.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]


def rows_for(thread: int, request: int) -> list[dict[str, Any]]:
    """1-3 rows that differ between requests, so a misplaced answer shows."""
    return [
        {
            "age": 18 + (thread * 7 + request + k) % 70,
            "income": 30.0 + (thread * 13 + request * 3 + k) % 40,
        }
        for k in range(1 + (thread + request) % 3)
    ]


def test_concurrent_requests_get_the_same_answers_as_unbatched_predictions(
    api: httpx.Client, tmp_path: Path
) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    path = skops_file(tmp_path / "m", seed=1)
    api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(input_schema=SCHEMA)),
        files=[upload(path)],
    )
    deploy(api, 1)
    local = fitted_model(seed=1)
    answers: dict[tuple[int, int], list[Any]] = {}

    def client(thread: int) -> None:
        with httpx.Client(base_url=str(api.base_url), headers=dict(api.headers), timeout=30) as c:
            for request in range(20):
                response = c.post(PREDICT, json=rows_for(thread, request))
                assert response.status_code == 200, response.text
                answers[(thread, request)] = response.json()["predictions"]

    in_parallel(32, client)
    assert len(answers) == 32 * 20
    for (thread, request), predictions in answers.items():
        expected = local.predict(pd.DataFrame(rows_for(thread, request)))
        assert predictions == expected.tolist(), (thread, request)


def test_concurrent_requests_share_predict_calls_of_at_most_max_rows(tmp_path: Path) -> None:
    with server_with(tmp_path, STEWARD_BATCH_MAX_ROWS="8", **ON_THREADS) as api:
        register_row_counter(api, tmp_path)
        batch_sizes: list[int] = []
        calls: list[float] = []

        def client(thread: int) -> None:
            with httpx.Client(
                base_url=str(api.base_url), headers=dict(api.headers), timeout=30
            ) as c:
                for _ in range(20):
                    predictions = c.post(PREDICT, json=[{"age": 40, "income": 50.0}]).json()[
                        "predictions"
                    ]
                    batch_sizes.append(predictions[0])
                    calls.append(1 / predictions[0])  # each call of n rows answers n requests

        in_parallel(32, client)
        assert len(batch_sizes) == 640
        assert max(batch_sizes) <= 8 and max(batch_sizes) > 1
        assert round(sum(calls)) < 0.9 * 640  # fewer predict calls than requests


def test_a_request_larger_than_max_rows_is_predicted_alone(tmp_path: Path) -> None:
    with server_with(tmp_path, STEWARD_BATCH_MAX_ROWS="8") as api:
        register_row_counter(api, tmp_path)
        large: list[list[int]] = []

        def client(thread: int) -> None:
            with httpx.Client(
                base_url=str(api.base_url), headers=dict(api.headers), timeout=30
            ) as c:
                for _ in range(10):
                    rows = 20 if thread == 0 else 1
                    response = c.post(PREDICT, json=[{"age": 40, "income": 50.0}] * rows)
                    if rows == 20:
                        large.append(response.json()["predictions"])

        in_parallel(16, client)
        assert large == [[20] * 20] * 10


def test_a_request_whose_rows_break_the_batch_fails_alone(tmp_path: Path) -> None:
    with server_with(tmp_path, **ON_THREADS) as api:
        register_row_counter(api, tmp_path)
        outcomes: dict[str, list[int]] = {"good": [], "bad": []}
        shared: list[int] = []

        def client(thread: int) -> None:
            bad = thread % 8 == 0
            row = {"age": -1 if bad else 40, "income": 50.0}
            with httpx.Client(
                base_url=str(api.base_url), headers=dict(api.headers), timeout=30
            ) as c:
                for _ in range(20):
                    response = c.post(PREDICT, json=[row])
                    outcomes["bad" if bad else "good"].append(response.status_code)
                    if response.status_code == 200:
                        shared.append(response.json()["predictions"][0])

        in_parallel(32, client)
        assert set(outcomes["bad"]) == {500} and len(outcomes["bad"]) == 4 * 20
        assert set(outcomes["good"]) == {200} and len(outcomes["good"]) == 28 * 20
        assert max(shared) > 1  # good requests were batched meanwhile


def test_a_lone_request_does_not_wait_for_the_batch_window(tmp_path: Path) -> None:
    # A window far longer than the client's timeout: a request that waited for it fails.
    with server_with(tmp_path, STEWARD_BATCH_MAX_WAIT_MS="120000") as api:
        register_row_counter(api, tmp_path)
        for _ in range(5):
            response = api.post(PREDICT, json=[{"age": 40, "income": 50.0}])
            assert response.json()["predictions"] == [1]


def test_a_request_queued_behind_a_busy_model_waits_at_most_max_wait() -> None:
    model = fitted_model()
    release = threading.Event()

    def predict(frame: pd.DataFrame) -> Any:
        if (frame["age"] == 0).any():  # the slow request
            release.wait(60)
        return model.predict(frame)

    batcher = Batcher(predict, max_rows=64, max_wait_s=0.05, name="test")
    slow = threading.Thread(
        target=batcher.submit, args=(pd.DataFrame({"age": [0], "income": [55.0]}),)
    )
    slow.start()  # found the version idle: predicted on its own thread, which now blocks
    time.sleep(0.05)
    frame = pd.DataFrame({"age": [40], "income": [55.0]})
    assert batcher.submit(frame).tolist() == model.predict(frame).tolist()
    assert slow.is_alive()  # answered while the busy model still holds the slow request
    release.set()
    slow.join()
    batcher.stop(wait_s=5)
    assert not batcher.alive


def test_outputs_are_split_back_by_row_counts() -> None:
    class Queued:
        def __init__(self, frame: pd.DataFrame) -> None:
            self.inputs, self.rows = frame, len(frame)

    first = pd.DataFrame({"x": [1, 2]})
    second = pd.DataFrame({"x": [3]}, index=[7])
    requests: Any = [Queued(first), Queued(second)]
    parts = split(np.array([10, 20, 30]), requests)
    assert parts is not None and [p.tolist() for p in parts] == [[10, 20], [30]]
    parts = split(np.array([[1, 0], [0, 1], [1, 1]]), requests)
    assert parts is not None and [p.shape for p in parts] == [(2, 2), (1, 2)]
    parts = split(pd.DataFrame({"p": [0.1, 0.2, 0.3]}), requests)
    assert parts is not None and list(parts[1].index) == [7]
    assert split(["a", "b", "c"], requests) == [["a", "b"], ["c"]]
    parts = split({"label": np.array([1, 0, 1])}, requests)
    assert parts is not None and parts[1]["label"].tolist() == [1]
    assert split(np.array([1, 2]), requests) is None  # rows do not line up: predict each alone


def test_unloading_a_version_stops_its_batcher(api: httpx.Client, tmp_path: Path) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    for seed in (1, 2):
        api.post(
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec(input_schema=SCHEMA)),
            files=[upload(skops_file(tmp_path / str(seed), seed=seed))],
        )
    deploy(api, 1)
    assert api.post(PREDICT, json=[{"age": 40, "income": 50.0}]).status_code == 200
    assert "steward-batch-churn-1" in {t.name for t in threading.enumerate()}
    deploy(api, 2)
    deadline = time.monotonic() + 10
    while "steward-batch-churn-1" in {t.name for t in threading.enumerate()}:
        assert time.monotonic() < deadline, "the batcher of the unloaded version kept running"
        time.sleep(0.05)


def test_batching_can_be_switched_off(tmp_path: Path) -> None:
    with server_with(tmp_path, STEWARD_BATCHING="off") as api:
        register_row_counter(api, tmp_path)
        sizes: list[int] = []

        def client(thread: int) -> None:
            with httpx.Client(
                base_url=str(api.base_url), headers=dict(api.headers), timeout=30
            ) as c:
                for _ in range(10):
                    sizes.extend(
                        c.post(PREDICT, json=[{"age": 1, "income": 1.0}]).json()["predictions"]
                    )

        in_parallel(16, client)
        assert set(sizes) == {1}
        assert "steward-batch-churn-1" not in {t.name for t in threading.enumerate()}
