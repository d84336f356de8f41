"""Deploying and calling models through the API of a live server, as users and apps do."""

from __future__ import annotations

import math
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from modelsteward.serving.predlog import PredictionLog, PredictionRecord

ROW = {"age": 41.0, "income": 52.5, "debt_ratio": 0.31, "open_accounts": 4.0}


def wait_for_revision(
    api: httpx.Client, revision: dict[str, Any], timeout: float = 60
) -> dict[str, Any]:
    """Poll a revision until the rollout worker has applied it or given up on it."""
    deadline = time.monotonic() + timeout
    path = f"/api/v1/deployments/{revision['deployment']}/revisions/{revision['revision']}"
    while time.monotonic() < deadline:
        current = api.get(path).json()
        if current["status"] not in ("pending", "running"):
            return current
        time.sleep(0.05)
    raise AssertionError(f"revision {revision} did not finish")


def deploy(
    api: httpx.Client, model: str, version: int, environment: str, **extra: Any
) -> dict[str, Any]:
    """Deploy through the API, as a user would, and wait for the rollout to finish."""
    body = {"model": model, "version": version, "environment": environment, **extra}
    response = api.post("/api/v1/deployments", json=body)
    assert response.status_code == 202, response.text
    return wait_for_revision(api, response.json())


def send_predictions(api: httpx.Client, deployment: str, count: int) -> None:
    for _ in range(count):
        response = api.post(f"/api/v1/deployments/{deployment}/predict", json=[ROW])
        assert response.status_code == 200, response.text


def backfill_traffic(
    logs_url: str,
    deployment: str,
    model: str,
    split: dict[int, str],
    *,
    minutes: int = 61,
    seed: int = 3,
) -> int:
    """An hour of plausible traffic, written through the prediction log's own writer.

    Requests come at a rate that drifts between about 20 and 45 a minute, split 90/10
    between the two versions in ``split`` ({version: role}), with log-normal latencies,
    a few rejected requests and a short burst of server errors 20 minutes ago. Returns
    how many records were written; the newest is a minute old, leaving the last minute
    to real requests.
    """
    rng = random.Random(seed)
    champion, challenger = sorted(split, key=lambda v: split[v] != "champion")
    now = datetime.now(UTC)
    written = 0
    with PredictionLog(logs_url) as log:
        for ago in range(minutes, 1, -1):
            end = now - timedelta(minutes=ago - 1)
            rate = int(32 + 10 * math.sin(ago / 8) + rng.uniform(-4, 4))
            for _ in range(rate):
                version = challenger if rng.random() < 0.1 else champion
                status = 200
                if 19 <= ago <= 21 and version == challenger and rng.random() < 0.5:
                    status = 500
                elif rng.random() < 0.01:
                    status = 422
                median = 3.2 if version == champion else 4.1
                log.record(
                    PredictionRecord(
                        request_id=uuid.uuid4().hex,
                        at=end - timedelta(seconds=rng.uniform(0.1, 60)),
                        deployment=deployment,
                        model=model,
                        version=version,
                        route=split[version],
                        inputs=[ROW],
                        outputs=[0.27] if status == 200 else [],
                        latency_ms=rng.lognormvariate(math.log(median), 0.45),
                        status=status,
                        error="RuntimeError" if status == 500 else None,
                    )
                )
                written += 1
    return written
