"""Shadow copies never hold up the caller: a bounded queue, answered in batches, all logged."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.helpers import fitted_model, sklearn_spec, skops_file, upload, version_form
from tests.serving.test_deployments import SCHEMA, deploy

from modelsteward.context import Steward
from modelsteward.serving.predlog import PredictionLog
from modelsteward.serving.shadows import Answer, Mirrored, ShadowMirror

# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")


@dataclass
class Loaded:
    """The part of a loaded version the mirror uses: what answers."""

    predictor: Any
    version: int = 2

    def run(self, inputs: Any) -> Any:
        return self.predictor.predict(inputs)


class Gate:
    """A model that blocks until released and counts the rows of each call."""

    def __init__(self) -> None:
        self.open, self.entered = threading.Event(), threading.Event()
        self.calls: list[int] = []

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.entered.set()
        self.open.wait(10)
        self.calls.append(len(frame))
        return frame["x"].to_numpy() * 2


def copy_of(target: Loaded, i: int) -> Mirrored:
    return Mirrored("churn", target, pd.DataFrame({"x": [float(i)]}), f"r{i}", None)


def test_a_full_shadow_queue_drops_and_counts_instead_of_blocking() -> None:
    model, dropped, answers = Gate(), [], []
    mirror = ShadowMirror(
        lambda item, answer: answers.append(item.request_id),
        dropped=dropped.append,
        max_queued=3,
        linger_s=0.0,
    )
    target = Loaded(model)
    assert mirror.offer(copy_of(target, 0))
    assert model.entered.wait(5)  # the model now holds the mirror's thread
    offered = [mirror.offer(copy_of(target, i)) for i in range(1, 20)]
    assert offered.count(True) == 3  # the queue's size
    assert offered.count(False) == mirror.dropped == len(dropped) == 16
    model.open.set()
    mirror.close()
    assert len(answers) == 1 + 3  # every accepted copy was answered


def test_copies_that_arrive_together_share_one_predict_call_and_keep_their_answers() -> None:
    model = Gate()
    model.open.set()
    answers: dict[str, Answer] = {}
    mirror = ShadowMirror(
        lambda item, answer: answers.__setitem__(item.request_id, answer),
        dropped=lambda item: None,
        linger_s=0.2,
    )
    target = Loaded(model)
    for i in range(10):
        assert mirror.offer(copy_of(target, i))
    mirror.close()
    assert model.calls == [10]
    assert {rid: a.outputs.tolist() for rid, a in answers.items()} == {
        f"r{i}": [2.0 * i] for i in range(10)
    }


def test_a_copy_that_breaks_the_batch_fails_alone() -> None:
    class Picky:
        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            if (frame["x"] < 0).any():
                raise ValueError("negative")
            return frame["x"].to_numpy()

    answers: dict[str, Answer] = {}
    mirror = ShadowMirror(
        lambda item, answer: answers.__setitem__(item.request_id, answer),
        dropped=lambda item: None,
        linger_s=0.2,
    )
    target = Loaded(Picky())
    for i in (1, -1, 2):
        mirror.offer(copy_of(target, i))
    mirror.close()
    assert answers["r-1"].error == "ValueError" and answers["r-1"].outputs is None
    assert answers["r1"].outputs.tolist() == [1.0] and answers["r2"].outputs.tolist() == [2.0]


def test_every_request_and_every_shadow_answer_is_in_the_log(
    api: httpx.Client, steward: Steward, tmp_path: Path
) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    for seed in (1, 2):
        api.post(
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec(input_schema=SCHEMA)),
            files=[upload(skops_file(tmp_path / str(seed), seed=seed))],
        )
    deploy(api, 1)
    assert deploy(api, 2, "shadow")["status"] == "applied"
    rows = [[{"age": 20 + i, "income": 40.5}] for i in range(30)]
    ids = []
    for body in rows:
        response = api.post("/api/v1/deployments/churn-production/predict", json=body)
        assert response.status_code == 200 and response.json()["version"] == 1
        ids.append(response.json()["request_id"])
    reader = PredictionLog(steward.settings.logs_url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        table = reader.read("churn-production").to_pylist()
        if Counter(r["route"] for r in table)["shadow"] >= 30:
            break
        time.sleep(0.2)
    reader.close()
    assert Counter(r["route"] for r in table) == {"champion": 30, "shadow": 30}
    shadow, logged = (
        fitted_model(seed=2),
        {r["request_id"]: r for r in table if r["route"] == "shadow"},
    )
    assert set(logged) == set(ids)
    for rid, body in zip(ids, rows, strict=True):
        frame = pd.DataFrame(body)
        expected = list(
            zip(
                shadow.predict(frame).tolist(),
                shadow.predict_proba(frame)[:, 1].tolist(),
                strict=True,
            )
        )
        # Batched and single-row predictions may differ in the last bits (BLAS kernels
        # differ by CPU), so probabilities are compared with a tolerance.
        answers = json.loads(logged[rid]["outputs"])
        assert [a["prediction"] for a in answers] == [c for c, _ in expected]
        assert [a["probability"] for a in answers] == pytest.approx([p for _, p in expected])
        assert json.loads(logged[rid]["inputs"]) == [{"age": body[0]["age"], "income": 40.5}]
