"""The life cycle API: definitions in YAML or JSON, rules, a version's life cycle, the inbox."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from tests.helpers import sklearn_spec, token_for, upload, version_form
from tests.lifecycle.workbench import GATED, READY, model_file

from modelsteward.context import Steward

YAML = {"content-type": "application/yaml"}


def as_user(
    api: httpx.Client, steward: Steward, role: str, name: str | None = None
) -> httpx.Client:
    token = token_for(steward, role, name)
    return httpx.Client(
        base_url=str(api.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def registered(api: httpx.Client, owner: str | None = None) -> None:
    created = api.post("/api/v1/models", json={"name": "churn", "owner": owner})
    assert created.status_code == 201, created.text
    response = api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(**READY)),
        files=[upload(model_file(), "model.skops")],
    )
    assert response.status_code == 201, response.text


def lifecycle_of(api: httpx.Client) -> dict:  # type: ignore[type-arg]
    response = api.get("/api/v1/models/churn/versions/1/lifecycle")
    assert response.status_code == 200, response.text
    return response.json()


def move(api: httpx.Client, transition: str, revision: int) -> httpx.Response:
    return api.post(
        "/api/v1/models/churn/versions/1/lifecycle/transitions",
        json={"transition": transition, "expected_revision": revision},
    )


def test_the_library_is_installed_and_readable(any_api: httpx.Client) -> None:
    listed = any_api.get("/api/v1/lifecycles").json()
    assert [d["name"] for d in listed] == [
        "champion-challenger",
        "regulated",
        "retirement",
        "standard",
    ]
    standard = any_api.get("/api/v1/lifecycles/standard").json()
    assert standard["version"] == 1 and standard["created_by"] == "system"
    assert "register -> validate" in standard["source"]
    assert any_api.get("/api/v1/lifecycles/standard", params={"version": 7}).status_code == 404
    assert any_api.get("/api/v1/lifecycle-rules").json()[0]["definition"] == "standard"


def test_definitions_are_saved_as_new_versions_only_when_they_change(
    any_api: httpx.Client, any_steward: Steward
) -> None:
    architect = as_user(any_api, any_steward, "architect")
    first = architect.post("/api/v1/lifecycles", content=GATED, headers=YAML)
    assert first.status_code == 201 and first.json()["definition"]["version"] == 1
    again = architect.post("/api/v1/lifecycles", content=GATED, headers=YAML)
    assert again.status_code == 200 and again.json()["created"] is False
    document = yaml.safe_load(GATED)
    document["description"] = "now in JSON"
    as_json = architect.post(
        "/api/v1/lifecycles",
        content=json.dumps(document),
        headers={"content-type": "application/json"},
    )
    assert as_json.status_code == 201 and as_json.json()["definition"]["version"] == 2
    versions = any_api.get("/api/v1/lifecycles/gated").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]


def test_bad_definitions_name_their_lines_and_change_nothing(any_api: httpx.Client) -> None:
    broken = GATED.replace("to: review", "to: nowhere")
    refused = any_api.post("/api/v1/lifecycles", content=broken, headers=YAML)
    assert refused.status_code == 422
    error = refused.json()["error"]
    line = broken.splitlines().index("    to: nowhere") + 1
    assert f"line {line}" in error["message"] and "nowhere" in error["message"]
    report = any_api.post("/api/v1/lifecycles/validate", content=broken, headers=YAML).json()
    assert report["valid"] is False and report["errors"][0]["line"] == line
    fine = any_api.post("/api/v1/lifecycles/validate", content=GATED, headers=YAML).json()
    assert fine == {"valid": True, "name": "gated", "errors": []}
    malformed = any_api.post("/api/v1/lifecycles", content="name: [oops", headers=YAML)
    assert malformed.status_code == 422 and "malformed YAML" in malformed.json()["error"]["message"]
    wrong_type = any_api.post(
        "/api/v1/lifecycles", content=GATED, headers={"content-type": "text/csv"}
    )
    assert wrong_type.status_code == 400
    assert "gated" not in [d["name"] for d in any_api.get("/api/v1/lifecycles").json()]


def test_who_may_define_and_assign_life_cycles(any_api: httpx.Client, any_steward: Steward) -> None:
    scientist = as_user(any_api, any_steward, "data-scientist")
    assert scientist.post("/api/v1/lifecycles", content=GATED, headers=YAML).status_code == 403
    rules = [{"priority": 5, "definition": "regulated", "risk_tier": "high"}]
    assert scientist.put("/api/v1/lifecycle-rules", json=rules).status_code == 403
    architect = as_user(any_api, any_steward, "architect")
    rules.append({"priority": 9, "definition": "standard"})
    saved = architect.put("/api/v1/lifecycle-rules", json=rules)
    assert saved.status_code == 200 and [r["priority"] for r in saved.json()] == [5, 9]
    unknown = architect.put("/api/v1/lifecycle-rules", json=[{"priority": 1, "definition": "nope"}])
    assert unknown.status_code == 422 and "unknown life cycle 'nope'" in unknown.text
    bad_tag = architect.put(
        "/api/v1/lifecycle-rules", json=[{"priority": 1, "definition": "standard", "tag": "x"}]
    )
    assert bad_tag.status_code == 422
    assert [r["priority"] for r in any_api.get("/api/v1/lifecycle-rules").json()] == [5, 9]


def test_a_version_moves_through_its_life_cycle_over_the_api(
    any_api: httpx.Client, any_steward: Steward
) -> None:
    architect = as_user(any_api, any_steward, "architect")
    architect.post("/api/v1/lifecycles", content=GATED, headers=YAML)
    architect.put("/api/v1/lifecycle-rules", json=[{"priority": 1, "definition": "gated"}])
    registered(any_api)
    started = lifecycle_of(any_api)
    assert started["state"] == "draft" and started["definition"] == "gated"
    assert (
        architect.post(
            "/api/v1/models/churn/versions/1/lifecycle/transitions",
            json={"transition": "check", "expected_revision": started["revision"]},
        ).status_code
        == 403
    )

    checked = move(any_api, "check", started["revision"])
    assert checked.status_code == 200 and checked.json()["outcome"] == "applied"
    stale = move(any_api, "release", started["revision"])
    assert (
        stale.status_code == 409 and "changed since you read it" in stale.json()["error"]["message"]
    )
    waiting = move(any_api, "release", checked.json()["instance"]["revision"]).json()
    assert waiting["outcome"] == "waiting"
    task = waiting["instance"]["open_tasks"][0]

    rita = as_user(any_api, any_steward, "risk-manager", "rita")
    raj = as_user(any_api, any_steward, "risk-manager", "raj")
    otto = as_user(any_api, any_steward, "operator", "otto")
    assert [t["id"] for t in rita.get("/api/v1/tasks").json()] == [task["id"]]
    assert otto.get("/api/v1/tasks").json() == []
    wrong_role = otto.post(f"/api/v1/tasks/{task['id']}/approve", json={"comment": "ok"})
    assert wrong_role.status_code == 403
    first = rita.post(f"/api/v1/tasks/{task['id']}/approve", json={"comment": "sound"})
    assert first.status_code == 200 and first.json()["task"]["approvals"] == 1
    assert rita.post(f"/api/v1/tasks/{task['id']}/approve").status_code == 409
    second = raj.post(f"/api/v1/tasks/{task['id']}/approve", json={"comment": "agreed"}).json()
    assert second["completed"]["outcome"] == "applied"
    assert lifecycle_of(any_api)["state"] == "live"
    closed = raj.post(f"/api/v1/tasks/{task['id']}/reject", json={"comment": "late"})
    assert closed.status_code == 409 and "takes no more decisions" in closed.text
    assert rita.post("/api/v1/tasks/424242/approve").status_code == 404
    done = rita.get("/api/v1/tasks", params={"status": "approved"}).json()
    assert [d["actor"] for d in done[0]["decisions"]] == ["rita", "raj"]


def test_the_owner_cannot_approve_over_the_api(any_api: httpx.Client, any_steward: Steward) -> None:
    any_api.post("/api/v1/lifecycles", content=GATED, headers=YAML)
    any_api.put("/api/v1/lifecycle-rules", json=[{"priority": 1, "definition": "gated"}])
    rowan = as_user(any_api, any_steward, "risk-manager", "rowan")
    registered(any_api, owner="rowan")
    revision = lifecycle_of(any_api)["revision"]
    revision = move(any_api, "check", revision).json()["instance"]["revision"]
    task = move(any_api, "release", revision).json()["instance"]["open_tasks"][0]
    refused = rowan.post(f"/api/v1/tasks/{task['id']}/approve")
    assert (
        refused.status_code == 403 and "separation of duties" in refused.json()["error"]["message"]
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/models/ghost/versions/1/lifecycle", 404),
        ("/api/v1/models/churn/versions/9/lifecycle", 404),
        ("/api/v1/models/churn/versions/0/lifecycle", 422),
        ("/api/v1/lifecycles/ghost", 404),
        ("/api/v1/tasks/77", 404),
        ("/api/v1/tasks?status=maybe", 422),
    ],
)
def test_reads_of_what_does_not_exist_are_clear(
    api: httpx.Client, tmp_path: Path, path: str, status: int
) -> None:
    registered(api)
    assert api.get(path).status_code == status
