"""``steward server --workers N``: a deployment change reaches every worker within 2 s."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.helpers import (
    follow_no_lifecycle,
    settings_for,
    sklearn_spec,
    skops_file,
    upload,
    version_form,
)
from tests.serving.test_deployments import SCHEMA, wait_for

from modelsteward.api.server import free_port
from modelsteward.context import Steward

READY = "/v2/models/churn-production/ready"


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    follow_no_lifecycle(Steward(settings_for(tmp_path / "home"))).close()
    port = free_port()
    env = {**os.environ, "STEWARD_HOME": str(tmp_path / "home")}
    server = subprocess.Popen(
        [sys.executable, "-m", "modelsteward", "server", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        token = (tmp_path / "home" / "admin.token").read_text().strip()
        yield url, {"Authorization": f"Bearer {token}"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def connections_to_each_worker(
    url: str, headers: dict[str, str], revision: int
) -> dict[str, httpx.Client]:
    """Keep-alive connections pinned to each of the 2 workers, each serving ``revision``."""
    pinned: dict[str, httpx.Client] = {}
    deadline = time.monotonic() + 30
    while len(pinned) < 2 and time.monotonic() < deadline:
        for _ in range(8):
            client = httpx.Client(base_url=url, headers=headers)
            body = client.get(READY).json()
            if body.get("revision") == revision and body["worker"] not in pinned:
                pinned[body["worker"]] = client
            else:
                client.close()
    assert len(pinned) == 2, "could not reach both workers"
    return pinned


def test_every_worker_follows_a_deployment_change(
    two_workers: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, headers = two_workers
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        api.post("/api/v1/models", json={"name": "churn"})
        for seed in (1, 2):
            path = skops_file(tmp_path / str(seed), seed=seed)
            api.post(
                "/api/v1/models/churn/versions",
                data=version_form(sklearn_spec(input_schema=SCHEMA)),
                files=[upload(path)],
            )
        first = wait_for(
            api, api.post("/api/v1/deployments", json={"model": "churn", "version": 1}).json()
        )
        assert first["status"] == "applied"
        pinned = connections_to_each_worker(url, headers, first["revision"])
        second = wait_for(
            api, api.post("/api/v1/deployments", json={"model": "churn", "version": 2}).json()
        )
        assert second["status"] == "applied"
        switched_at = time.monotonic()

    lagging = dict(pinned)
    while lagging and time.monotonic() - switched_at < 2.0:
        for worker, client in list(lagging.items()):
            if client.get(READY).json().get("revision") == second["revision"]:
                del lagging[worker]
        time.sleep(0.02)
    for client in pinned.values():
        client.close()
    assert not lagging, f"workers still on the old revision after 2 s: {sorted(lagging)}"
