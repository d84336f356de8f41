"""Cheap models are answered on the event loop; slow ones on worker threads, with batching."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from tests.helpers import upload, version_form
from tests.serving.test_batching import PREDICT, server_with
from tests.serving.test_deployments import SCHEMA, deploy

from modelsteward.serving.costs import MIN_CALLS, PredictCosts

# Answers, for every row, the name of the thread its predict call ran on.
# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

THREAD_NAMER = """
import threading
import time

class ThreadNamer:
    slow_s = {slow_s}

    def predict(self, frame):
        if self.slow_s:
            end = time.thread_time() + self.slow_s
            while time.thread_time() < end:  # CPU time, as the server measures it
                pass
        return [threading.current_thread().name] * len(frame)
"""
WORKER = "AnyIO worker thread"


def register(api: httpx.Client, tmp_path: Path, slow_s: float = 0.0) -> None:
    source = tmp_path / "namer.py"
    source.write_text(THREAD_NAMER.format(slow_s=slow_s))
    spec = {
        "flavor": "python",
        "files": [{"role": "model", "name": "namer.py"}],
        "input_schema": SCHEMA,
        "flavor_options": {"module": "namer", "class": "ThreadNamer"},
        "trust_reason": "test double that reports where it runs",
    }
    api.post("/api/v1/models", json={"name": "churn"})
    created = api.post(
        "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(source)]
    )
    assert created.status_code == 201, created.text
    assert deploy(api, 1)["status"] == "applied"


def threads_used(api: httpx.Client, requests: int = 20) -> list[str]:
    names = []
    for _ in range(requests):
        response = api.post(PREDICT, json=[{"age": 40, "income": 50.0}])
        assert response.status_code == 200, response.text
        names.append(response.json()["predictions"][0])
    return names


def test_a_cheap_model_is_answered_on_the_event_loop_once_timed(tmp_path: Path) -> None:
    with server_with(tmp_path) as api:
        register(api, tmp_path)
        names = threads_used(api)
    assert set(names[:MIN_CALLS]) == {WORKER}  # until a few calls were timed
    assert WORKER not in names[MIN_CALLS + 1 :]


def test_a_slow_model_stays_on_worker_threads(tmp_path: Path) -> None:
    with server_with(tmp_path, STEWARD_INLINE_PREDICT_MS="2") as api:
        register(api, tmp_path, slow_s=0.004)
        assert set(threads_used(api, 12)) == {WORKER}


def test_answering_on_the_event_loop_can_be_switched_off(tmp_path: Path) -> None:
    with server_with(tmp_path, STEWARD_INLINE_PREDICT_MS="0") as api:
        register(api, tmp_path)
        assert set(threads_used(api)) == {WORKER}


def test_costs_are_a_moving_average_of_cpu_time_per_call() -> None:
    costs = PredictCosts(inline_s=0.002)
    key = ("churn", 1)
    assert not costs.cheap([key])  # never timed
    for _ in range(MIN_CALLS):
        costs.note(key, 0.0005)
    assert costs.cheap([key]) and costs.seconds(key) == 0.0005
    for _ in range(20):
        costs.note(key, 0.01)
    assert not costs.cheap([key])
    waiting = costs.timed(("other", 1), lambda x: time.sleep(0.05) or x)  # asleep: no CPU
    for _ in range(MIN_CALLS):
        assert waiting(3) == 3
    assert costs.cheap([("other", 1)])
    costs.forget([key])
    assert costs.seconds(key) is None
    assert not PredictCosts(inline_s=0).cheap([("other", 1)])
