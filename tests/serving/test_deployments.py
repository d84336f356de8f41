"""Deploying versions: steps, strategies, traffic, rollback, and failures that never take traffic."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers import sklearn_spec, skops_file, upload, version_form, wait_delivered

from modelsteward.context import Steward
from modelsteward.serving import deployments

# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

ROW = {"age": 40, "income": 55.0}
SCHEMA = {
    "columns": [
        {"name": "age", "type": "integer", "dtype": "int64"},
        {"name": "income", "type": "float", "dtype": "float64"},
    ]
}
BROKEN_MODEL = """
class Broken:
    def predict(self, frame):
        raise RuntimeError("this version is broken")
"""


def wait_for(api: httpx.Client, revision: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    path = f"/api/v1/deployments/{revision['deployment']}/revisions/{revision['revision']}"
    while time.monotonic() < deadline:
        current = api.get(path).json()
        if current["status"] not in ("pending", "running"):
            wait_delivered(api)  # and the server has reacted to its events
            return current
        time.sleep(0.05)
    raise AssertionError(f"revision {revision} did not finish")


def deploy(
    api: httpx.Client, version: int | str, strategy: str = "direct", **extra: Any
) -> dict[str, Any]:
    response = api.post(
        "/api/v1/deployments",
        json={
            "model": "churn",
            "version": version,
            "environment": "production",
            "strategy": strategy,
            **extra,
        },
    )
    assert response.status_code == 202, response.text
    return wait_for(api, response.json())


@pytest.fixture
def churn(api: httpx.Client, tmp_path: Path) -> httpx.Client:
    """churn v1 and v2 (real sklearn models), v3 a Python model whose predict fails."""
    api.post("/api/v1/models", json={"name": "churn"})
    for seed in (1, 2):
        path = skops_file(tmp_path / str(seed), seed=seed)
        response = api.post(
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec(input_schema=SCHEMA)),
            files=[upload(path)],
        )
        assert response.status_code == 201, response.text
    source = tmp_path / "broken.py"
    source.write_text(BROKEN_MODEL)
    spec = {
        "flavor": "python",
        "files": [{"role": "model", "name": "broken.py"}],
        "input_schema": SCHEMA,
        "flavor_options": {"module": "broken", "class": "Broken"},
        "trust_reason": "test double",
    }
    assert (
        api.post(
            "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(source)]
        ).status_code
        == 201
    )
    return api


def predict(api: httpx.Client, key: str | None = None) -> httpx.Response:
    headers = {"X-Request-Key": key} if key else {}
    return api.post("/api/v1/deployments/churn-production/predict", json=[ROW], headers=headers)


def test_a_direct_deployment_runs_every_step_and_serves(churn: httpx.Client) -> None:
    revision = deploy(churn, 1)
    assert revision["status"] == "applied"
    assert [s["step"] for s in revision["steps"]] == ["load", "verify", "smoke", "ready", "switch"]
    assert all(s["status"] == "ok" for s in revision["steps"])
    response = predict(churn)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and len(body["predictions"]) == 1
    assert body["request_id"] == response.headers["x-request-id"]
    actions = [
        e["action"] for e in churn.get("/api/v1/audit", params={"object_type": "deployment"}).json()
    ]
    assert actions == ["deployment.changed", "deployment.requested"]


def test_a_failing_version_never_takes_traffic(churn: httpx.Client) -> None:
    deploy(churn, 1)
    failed = deploy(churn, 3)
    assert failed["status"] == "rolled_back"
    steps = {s["step"]: s["status"] for s in failed["steps"]}
    assert steps["smoke"] == "failed" and steps["rollback"] == "ok" and "switch" not in steps
    assert predict(churn).json()["version"] == 1
    assert churn.get("/v2/models/churn-production/ready").status_code == 200


def test_a_finished_revision_is_never_seen_without_its_last_step(
    churn: httpx.Client, steward: Steward, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever reads a revision as applied or rolled back also reads its switch or
    rollback step (``steward deploy`` printed no switch line when it polled between)."""
    seen: list[tuple[str, list[str]]] = []
    real_finish = deployments.finish_revision

    def finish_then_look(*args: Any, **kwargs: Any) -> None:
        real_finish(*args, **kwargs)
        name, number = args[2], args[3]
        view = deployments.get_deployment(steward, name)
        finished = next(r for r in view.revisions if r.revision == number)
        seen.append((finished.status, [s.step for s in finished.steps]))

    monkeypatch.setattr(deployments, "finish_revision", finish_then_look)
    deploy(churn, 1)
    deploy(churn, 3)
    assert seen[0] == ("applied", ["load", "verify", "smoke", "ready", "switch"])
    assert seen[1][0] == "rolled_back" and seen[1][1][-1] == "rollback"


def test_canary_splits_traffic_and_the_split_changes_live(churn: httpx.Client) -> None:
    deploy(churn, 1)
    deploy(churn, 2, "canary", traffic=30)
    served = Counter(predict(churn).json()["version"] for _ in range(200))
    assert 30 < served[2] < 90 and served[1] + served[2] == 200
    changed = churn.put("/api/v1/deployments/churn-production/traffic", json={"traffic": 0})
    assert wait_for(churn, changed.json())["status"] == "applied"
    assert {predict(churn).json()["version"] for _ in range(30)} == {1}


def test_ab_assignment_is_sticky_per_key(churn: httpx.Client) -> None:
    deploy(churn, 1)
    deploy(churn, 2, "ab", traffic=50)
    for key in ("customer-1", "customer-2", "customer-3", "customer-4"):
        assert len({predict(churn, key).json()["version"] for _ in range(10)}) == 1
    versions = {predict(churn, f"customer-{i}").json()["version"] for i in range(40)}
    assert versions == {1, 2}


def test_shadow_gets_a_copy_but_never_answers(churn: httpx.Client, steward: Steward) -> None:
    from modelsteward.serving.predlog import PredictionLog

    deploy(churn, 1)
    deploy(churn, 2, "shadow")
    assert {predict(churn).json()["version"] for _ in range(10)} == {1}
    reader = PredictionLog(steward.settings.logs_url)
    deadline = time.monotonic() + 10
    routes: Counter[str] = Counter()
    while time.monotonic() < deadline and routes["shadow"] < 10:
        time.sleep(0.3)
        routes = Counter(reader.read("churn-production").column("route").to_pylist())
    reader.close()
    assert (routes["shadow"], routes["champion"]) == (10, 10)


def test_rollback_returns_to_the_previous_state(churn: httpx.Client) -> None:
    deploy(churn, 1)
    deploy(churn, 2)
    assert predict(churn).json()["version"] == 2
    rolled = wait_for(
        churn, churn.post("/api/v1/deployments/churn-production/rollback", json={}).json()
    )
    assert rolled["status"] == "applied" and rolled["routes"][0]["version"] == 1
    assert predict(churn).json()["version"] == 1


def test_an_untrusted_or_archived_version_is_refused(churn: httpx.Client, tmp_path: Path) -> None:
    deploy(churn, 1)
    churn.post("/api/v1/models/churn/versions/2/archive")
    refused = churn.post("/api/v1/deployments", json={"model": "churn", "version": 2})
    assert refused.status_code == 409
    assert predict(churn).json()["version"] == 1


def test_twenty_swaps_under_load_fail_no_request(churn: httpx.Client) -> None:
    deploy(churn, 1)
    failures: list[str] = []
    served = Counter()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(
            base_url=str(churn.base_url), headers=dict(churn.headers), timeout=30
        ) as c:
            while not stop.is_set():
                response = predict(c)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    served[response.json()["version"]] += 1

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    for swap in range(20):
        assert deploy(churn, 2 if swap % 2 == 0 else 1)["status"] == "applied"
    stop.set()
    for worker in workers:
        worker.join()
    assert not failures, failures[:3]
    assert served[1] > 0 and served[2] > 0
