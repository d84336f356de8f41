"""The life cycle governs deployment: production admits only approved (or later) versions.

Every model follows ``standard`` (the default rule of a fresh server), whose
``approved``, ``deployed`` and ``monitored`` states admit ``production``. A direct
deploy, a traffic change, a promotion or a rollback that would give traffic to a
version in another state is refused with a 409 naming the state required and the
transition to take, unless someone with ``deployment.override`` gives a reason.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of, recorded, sklearn_spec, token_for, upload, version_form
from tests.lifecycle.workbench import READY, model_file
from tests.serving.test_deployments import wait_for

from modelsteward.context import Steward


def as_user(api: httpx.Client, steward: Steward, role: str) -> httpx.Client:
    token = token_for(steward, role)
    return httpx.Client(
        base_url=str(api.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def register(api: httpx.Client, count: int = 1) -> None:
    assert api.post("/api/v1/models", json={"name": "churn", "owner": "admin"}).status_code == 201
    for _ in range(count):
        response = api.post(
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec(**READY)),
            files=[upload(model_file(), "model.skops")],
        )
        assert response.status_code == 201, response.text


def approve(api: httpx.Client, steward: Steward, version: int) -> None:
    """Walk ``churn`` ``version`` through ``standard`` to ``approved``."""
    path = f"/api/v1/models/churn/versions/{version}/lifecycle"
    for transition in ("validate", "approve"):
        revision = api.get(path).json()["revision"]
        body = {"transition": transition, "expected_revision": revision}
        moved = api.post(f"{path}/transitions", json=body)
        assert moved.status_code == 200 and moved.json()["outcome"] != "blocked", moved.text
    task = api.get(path).json()["open_tasks"][0]
    with as_user(api, steward, "risk-manager") as rita:
        assert rita.post(f"/api/v1/tasks/{task['id']}/approve").status_code == 200
    assert api.get(path).json()["state"] == "approved"


def request(api: httpx.Client, version: int, **extra: Any) -> httpx.Response:
    body = {"model": "churn", "version": version, "environment": "production", **extra}
    return api.post("/api/v1/deployments", json=body)


def deployed(api: httpx.Client, version: int, **extra: Any) -> dict[str, Any]:
    response = request(api, version, **extra)
    assert response.status_code == 202, response.text
    revision = wait_for(api, response.json())
    assert revision["status"] == "applied", revision
    return revision


def test_deploying_a_registered_version_to_production_names_the_state_and_transition(
    api: httpx.Client,
) -> None:
    register(api)
    refused = request(api, 1)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert "state 'registered' of life cycle 'standard'" in error["message"]
    assert "production admits only approved, deployed, monitored" in error["message"]
    assert "Take transition 'validate' next" in error["message"]
    (why,) = error["details"]["refusals"]
    assert why["state"] == "registered" and why["next_transition"] == "validate"
    assert why["admitted_states"] == ["approved", "deployed", "monitored"]
    assert api.get("/api/v1/deployments").json() == []


def test_an_environment_no_state_admits_is_not_gated(api: httpx.Client) -> None:
    register(api)
    response = api.post(
        "/api/v1/deployments", json={"model": "churn", "version": 1, "environment": "staging"}
    )
    assert response.status_code == 202, response.text


def test_an_approved_version_deploys_and_its_page_shows_no_warning(
    api: httpx.Client, steward: Steward
) -> None:
    register(api)
    approve(api, steward, 1)
    deployed(api, 1)
    view = api.get("/api/v1/deployments/churn-production").json()
    assert view["routes"][0]["version"] == 1 and view["unadmitted"] == []


def test_canary_traffic_and_promotion_of_an_unapproved_version_are_refused(
    api: httpx.Client, steward: Steward
) -> None:
    register(api, count=2)
    approve(api, steward, 1)
    deployed(api, 1)
    canary = request(api, 2, strategy="canary", traffic=10)
    assert canary.status_code == 409 and "churn v2 may not serve in production" in canary.text

    # v2 becomes a challenger by override; every further gain for it is refused again.
    deployed(api, 2, strategy="canary", traffic=10, override="incident 42: hotfix canary")
    more = api.put("/api/v1/deployments/churn-production/traffic", json={"traffic": 60})
    assert more.status_code == 409 and "'registered'" in more.json()["error"]["message"]
    promote = request(api, 2)
    assert promote.status_code == 409
    drained = api.put("/api/v1/deployments/churn-production/traffic", json={"traffic": 0})
    assert drained.status_code == 202, drained.text  # taking traffic away is always allowed


def test_an_override_is_audited_raised_as_an_event_and_shown(
    api: httpx.Client, steward: Steward
) -> None:
    register(api)
    revision = deployed(api, 1, override="regulator demo, approved by phone")
    assert revision["reason"].endswith("override: regulator demo, approved by phone")

    records = api.get("/api/v1/audit", params={"object_type": "deployment"}).json()
    overridden = next(r for r in records if r["action"] == "deployment.overridden")
    assert overridden["after"]["reason"] == "regulator demo, approved by phone"
    assert overridden["after"]["refusals"][0]["state"] == "registered"
    assert overridden["actor"] == "admin"
    seen = recorded(steward, "deployment.overridden")
    assert [e.name for e in seen] == ["deployment.overridden"]
    assert seen[0].payload["environment"] == "production"

    (warning,) = api.get("/api/v1/deployments/churn-production").json()["unadmitted"]
    assert warning["version"] == 1 and warning["headline"] == "serving outside its life cycle"


@pytest.mark.parametrize("role", ["operator", "data-scientist"])
def test_an_override_by_a_role_without_the_permission_is_forbidden(
    api: httpx.Client, steward: Steward, role: str
) -> None:
    register(api)
    with as_user(api, steward, role) as caller:
        response = caller.post(
            "/api/v1/deployments",
            json={"model": "churn", "version": 1, "override": "I say so"},
        )
    assert response.status_code == 403
    assert api.get("/api/v1/deployments").json() == []


def test_an_override_needs_a_reason(api: httpx.Client) -> None:
    register(api)
    assert request(api, 1, override="   ").status_code == 422


def test_the_life_cycles_own_deploy_passes_the_gate(api: httpx.Client, steward: Steward) -> None:
    register(api)
    approve(api, steward, 1)
    path = "/api/v1/models/churn/versions/1/lifecycle"
    revision = api.get(path).json()["revision"]
    body = {"transition": "deploy", "expected_revision": revision}
    assert api.post(f"{path}/transitions", json=body).json()["outcome"] == "applied"
    deadline = time.monotonic() + 60
    while not (view := api.get("/api/v1/deployments").json()) or not view[0]["applied_revision"]:
        assert time.monotonic() < deadline, "the life cycle's deploy action never rolled out"
        time.sleep(0.05)
    assert view[0]["routes"] == [{"version": 1, "role": "champion", "weight": 100}]
    assert view[0]["unadmitted"] == []


def test_the_cli_refuses_in_one_line_and_overrides_with_a_reason(
    api: httpx.Client, steward: Steward, server: str
) -> None:
    register(api)
    env = {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    refused = steward_cli("deploy", "churn:1", "--env", "production", env=env)
    assert refused.returncode == 5
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "'registered'" in refused.stderr and "validate" in refused.stderr
    forced = steward_cli(
        "deploy", "churn:1", "--env", "production", "--override", "outage drill", env=env
    )
    assert forced.returncode == 0, forced.stderr
    shown = steward_cli("deployments", "show", "churn-production", env=env)
    assert "serving outside its life cycle" in shown.stdout
