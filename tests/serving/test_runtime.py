"""Many models in one server: lazy loading on first request and a memory bound kept by LRU."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from tests.helpers import (
    admin_token_of,
    follow_no_lifecycle,
    settings_for,
    sklearn_spec,
    skops_file,
    upload,
    version_form,
)
from tests.serving.test_deployments import ROW, SCHEMA, deploy

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.serving.runtime import LOADED_SIZE_FACTOR


@contextmanager
def client_for(steward: Steward) -> Iterator[httpx.Client]:
    """A live server process of its own (its own runtime) on ``steward``'s database."""
    with serve_in_thread(steward) as url:
        headers = {"Authorization": f"Bearer {admin_token_of(steward)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            yield client


def lazy_steward(tmp_path: Path, **env: str) -> Steward:
    steward = follow_no_lifecycle(
        Steward(settings_for(tmp_path / "home", STEWARD_LAZY_LOADING="on", **env))
    )
    ensure_bootstrap_admin(steward)
    return steward


def register(api: httpx.Client, files: list[Path]) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    for path in files:
        created = api.post(
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec(input_schema=SCHEMA)),
            files=[upload(path)],
        )
        assert created.status_code == 201, created.text


def predict(api: httpx.Client, deployment: str) -> httpx.Response:
    return api.post(f"/api/v1/deployments/{deployment}/predict", json=[ROW])


def ready(api: httpx.Client, deployment: str) -> bool:
    return api.get(f"/v2/models/{deployment}/ready").status_code == 200


def served_after_loading(api: httpx.Client, deployment: str) -> httpx.Response:
    """The first request asks for a load and gets 503; retrying soon gets the answer."""
    first = predict(api, deployment)
    assert first.status_code == 503, first.text
    error = first.json()["error"]
    assert error["code"] == "model_loading" and "loading" in error["message"]
    assert "retry" in error["message"] and error["details"]["retry_after_s"] >= 1
    deadline = time.monotonic() + 30
    while (response := predict(api, deployment)).status_code == 503:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.1)
    assert response.status_code == 200, response.text
    return response


def test_a_deployment_loads_on_its_first_request_and_then_serves(tmp_path: Path) -> None:
    steward = lazy_steward(tmp_path)
    try:
        with client_for(steward) as first_worker:
            register(first_worker, [skops_file(tmp_path / "1", seed=1)])
            assert deploy(first_worker, 1)["status"] == "applied"
        with client_for(steward) as fresh_worker:
            time.sleep(1.0)  # a few polls: the fresh worker knows the deployment, loads nothing
            assert not ready(fresh_worker, "churn-production")
            assert served_after_loading(fresh_worker, "churn-production").json()["version"] == 1
            assert ready(fresh_worker, "churn-production")
    finally:
        steward.close()


def test_a_request_for_a_loading_deployment_is_told_when_to_retry(tmp_path: Path) -> None:
    steward = lazy_steward(tmp_path)
    try:
        with client_for(steward) as first_worker:
            register(first_worker, [skops_file(tmp_path / "1", seed=1)])
            deploy(first_worker, 1)
        with client_for(steward) as fresh_worker:
            time.sleep(1.0)
            response = predict(fresh_worker, "churn-production")
            assert response.status_code == 503
            assert int(response.headers["retry-after"]) >= 1
    finally:
        steward.close()


def test_the_byte_bound_unloads_the_least_recently_used_version_and_it_reloads(
    tmp_path: Path,
) -> None:
    files = [skops_file(tmp_path / str(seed), seed=seed) for seed in (1, 2)]
    one_version = max(p.stat().st_size for p in files) * LOADED_SIZE_FACTOR
    steward = lazy_steward(
        tmp_path,
        STEWARD_MAX_LOADED_BYTES=str(int(one_version * 1.5)),
        STEWARD_UNLOAD_IDLE_SECONDS="0",
    )
    try:
        with client_for(steward) as api:
            register(api, files)
            deploy(api, 1)
            assert predict(api, "churn-production").json()["version"] == 1
            deploy(api, 2, environment="staging")  # loading v2 leaves no room for v1
            assert ready(api, "churn-staging") and not ready(api, "churn-production")
            assert predict(api, "churn-staging").json()["version"] == 2

            assert served_after_loading(api, "churn-production").json()["version"] == 1
            assert ready(api, "churn-production") and not ready(api, "churn-staging")
            assert served_after_loading(api, "churn-staging").json()["version"] == 2
    finally:
        steward.close()


def test_versions_in_recent_use_are_kept_even_over_the_bound(tmp_path: Path) -> None:
    files = [skops_file(tmp_path / str(seed), seed=seed) for seed in (1, 2)]
    steward = lazy_steward(tmp_path, STEWARD_MAX_LOADED_BYTES="1")
    try:
        with client_for(steward) as api:
            register(api, files)
            deploy(api, 1)
            assert predict(api, "churn-production").status_code == 200
            deploy(api, 2, environment="staging")
            assert ready(api, "churn-production") and ready(api, "churn-staging")
            assert predict(api, "churn-production").json()["version"] == 1
    finally:
        steward.close()


def test_without_lazy_loading_every_applied_deployment_is_loaded(tmp_path: Path) -> None:
    steward = follow_no_lifecycle(Steward(settings_for(tmp_path / "home")))
    ensure_bootstrap_admin(steward)
    try:
        with client_for(steward) as first_worker:
            register(first_worker, [skops_file(tmp_path / "1", seed=1)])
            deploy(first_worker, 1)
        with client_for(steward) as fresh_worker:
            deadline = time.monotonic() + 10
            while not ready(fresh_worker, "churn-production"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert predict(fresh_worker, "churn-production").json()["version"] == 1
    finally:
        steward.close()
