"""Every serving process reloads its routes when a deployment event reaches it.

Two servers share one database, each with its own runtime, and their fallback poll is an
hour: only the process-scoped ``serving.routes`` subscriber can make the second server
claim a rollout or serve a revision that the first one applied.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tests.helpers import follow_no_lifecycle, settings_for, skops_file
from tests.serving.test_deployments import ROW, deploy
from tests.serving.test_runtime import client_for, register

from modelsteward.context import Steward
from modelsteward.events.subscribers import SUBSCRIBERS
from modelsteward.identity.users import ensure_bootstrap_admin


def served_version(api: httpx.Client, deployment: str, timeout: float = 30) -> int:
    """The version ``api``'s server answers with, once it serves the deployment at all."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.post(f"/api/v1/deployments/{deployment}/predict", json=[ROW])
        if response.status_code == 200:
            return int(response.json()["version"])
        assert time.monotonic() < deadline, f"never served: {response.text}"
        time.sleep(0.05)


def test_serving_routes_is_a_process_subscriber_of_deployment_events() -> None:
    routes = SUBSCRIBERS.get("serving.routes")
    assert routes.scope == "process"
    assert {"deployment.requested", "deployment.changed"} <= routes.events


def test_a_deployment_applied_by_one_server_serves_at_once_in_the_other(tmp_path: Path) -> None:
    home = settings_for(tmp_path / "home", STEWARD_SERVING_POLL_SECONDS="3600")
    first, second = Steward(home), Steward(home)
    follow_no_lifecycle(first)
    ensure_bootstrap_admin(first)
    models = [skops_file(tmp_path / str(seed), seed=seed) for seed in (1, 2)]
    try:
        with client_for(first) as one, client_for(second) as other:
            register(one, models)
            deploy(one, 1)
            assert served_version(other, "churn-production") == 1
            deploy(other, 2)
            deadline = time.monotonic() + 30
            while served_version(one, "churn-production") != 2:
                assert time.monotonic() < deadline, "the first server kept serving v1"
                time.sleep(0.05)
    finally:
        first.close()
        second.close()
