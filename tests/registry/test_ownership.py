"""A model's owner is a user, and changing it is a governed, audited transfer."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, update
from tests.helpers import people, recorded, sklearn_spec, token_for, upload, version_form
from tests.lifecycle.workbench import GATED, READY, model_file

from modelsteward.context import Steward
from modelsteward.errors import Forbidden, InvalidInput
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.registry.models import create_model, get_model
from modelsteward.registry.ownership import transfer_ownership
from modelsteward.registry.specs import ModelSpec, OwnerTransfer
from modelsteward.store.tables import AuditEvent, User

YAML = {"content-type": "application/yaml"}


def as_user(api: httpx.Client, steward: Steward, role: str, name: str) -> httpx.Client:
    token = token_for(steward, role, name)
    return httpx.Client(
        base_url=str(api.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def release_task(api: httpx.Client) -> int:
    """Check and release churn v1 on ``gated``: the open two-approval task's id."""
    path = "/api/v1/models/churn/versions/1/lifecycle"
    revision = api.get(path).json()["revision"]
    for name in ("check", "release"):
        moved = api.post(
            f"{path}/transitions", json={"transition": name, "expected_revision": revision}
        ).json()
        revision = moved["instance"]["revision"]
    return int(moved["instance"]["open_tasks"][0]["id"])


def test_a_submitter_cannot_free_the_real_owner_to_approve(
    any_api: httpx.Client, any_steward: Steward
) -> None:
    """The attack found in use: the data scientist set the owner to "nobody" with PATCH,
    then the real owner approved the version. Now the PATCH is refused and so is the
    owner's approval."""
    any_api.post("/api/v1/lifecycles", content=GATED, headers=YAML)
    any_api.put("/api/v1/lifecycle-rules", json=[{"priority": 1, "definition": "gated"}])
    rowan = as_user(any_api, any_steward, "risk-manager", "rowan")
    sam = as_user(any_api, any_steward, "data-scientist", "sam")
    assert sam.post("/api/v1/models", json={"name": "churn", "owner": "rowan"}).status_code == 201
    registered = sam.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(**READY)),
        files=[upload(model_file(), "model.skops")],
    )
    assert registered.status_code == 201, registered.text
    task = release_task(any_api)

    patched = sam.patch("/api/v1/models/churn", json={"owner": "nobody"})
    assert patched.status_code == 422
    assert "owner is not changed by an update" in patched.json()["error"]["message"]
    transferred = sam.post("/api/v1/models/churn/owner", json={"owner": None, "reason": "x"})
    assert transferred.status_code == 403
    assert "models.transfer_ownership" in transferred.json()["error"]["message"]
    assert any_api.get("/api/v1/models/churn").json()["owner"] == "rowan"

    refused = rowan.post(f"/api/v1/tasks/{task}/approve")
    assert refused.status_code == 403
    assert "rowan owns model churn" in refused.json()["error"]["message"]
    assert any_api.get(f"/api/v1/tasks/{task}").json()["approvals"] == 0


def test_an_owner_who_is_no_user_is_refused_naming_the_field(api: httpx.Client) -> None:
    response = api.post("/api/v1/models", json={"name": "churn", "owner": "nobody"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"].startswith("owner: no user named 'nobody'")
    assert error["details"]["field"] == "owner"
    assert error["details"]["errors"] == [
        {"loc": ["body", "owner"], "msg": "no user named 'nobody'"}
    ]
    assert api.get("/api/v1/models", params={"status": "all"}).json()["total"] == 0
    bad = api.post("/api/v1/models", json={"name": "churn", "owner": "a/b"})
    assert bad.status_code == 422 and "invalid owner" in bad.json()["error"]["message"]


def test_an_empty_owner_means_no_owner(api: httpx.Client) -> None:
    assert api.post("/api/v1/models", json={"name": "churn", "owner": ""}).json()["owner"] is None


def test_a_disabled_user_cannot_become_an_owner(steward: Steward) -> None:
    people(steward, "gone")
    with steward.db.engine.begin() as conn:  # no service disables users yet
        conn.execute(update(User).where(User.name == "gone").values(disabled=True))
    with pytest.raises(InvalidInput, match="owner: user 'gone' is disabled"):
        create_model(steward, SYSTEM, ModelSpec(name="churn", owner="gone"))


def test_a_risk_manager_transfers_ownership_audited_with_before_after_and_reason(
    any_steward: Steward,
) -> None:
    people(any_steward, "ana", "bo")
    create_model(any_steward, SYSTEM, ModelSpec(name="churn", owner="ana"))
    rita = Principal("rita", "risk-manager")
    moved = transfer_ownership(
        any_steward, rita, "churn", OwnerTransfer(owner="bo", reason="ana moved to pricing")
    )
    assert moved.owner == "bo" and get_model(any_steward, "churn").owner == "bo"
    [event] = recorded(any_steward, "model.owner_changed")
    assert (event.actor, event.object_id) == ("rita", "churn")
    assert event.payload == {
        "owner": "bo",
        "previous_owner": "ana",
        "reason": "ana moved to pricing",
    }
    assert recorded(any_steward, "model.updated") == []
    with any_steward.db.read() as session:
        record = session.execute(
            select(AuditEvent.before, AuditEvent.after).where(
                AuditEvent.action == "model.owner_changed"
            )
        ).one()
    assert record.before == {"owner": "ana"}
    assert record.after == {"owner": "bo", "reason": "ana moved to pricing"}
    cleared = transfer_ownership(any_steward, rita, "churn", OwnerTransfer(owner=None, reason="x"))
    assert cleared.owner is None


def test_a_transfer_needs_the_permission_a_reason_a_user_and_someone_else(
    steward: Steward,
) -> None:
    people(steward, "ana", "bo")
    create_model(steward, SYSTEM, ModelSpec(name="churn", owner="ana"))
    with pytest.raises(Forbidden, match="'data-scientist' lacks permission 'models.transfer_"):
        transfer_ownership(
            steward,
            Principal("sam", "data-scientist"),
            "churn",
            OwnerTransfer(owner="bo", reason="x"),
        )
    with pytest.raises(Forbidden, match="ana owns model churn and may not transfer it"):
        transfer_ownership(
            steward, Principal("ana", "admin"), "churn", OwnerTransfer(owner="bo", reason="x")
        )
    with pytest.raises(InvalidInput, match="owner: no user named 'ghost'"):
        transfer_ownership(steward, SYSTEM, "churn", OwnerTransfer(owner="ghost", reason="x"))
    with pytest.raises(ValueError, match="reason"):
        OwnerTransfer(owner="bo", reason="")
    assert get_model(steward, "churn").owner == "ana"
    assert recorded(steward, "model.owner_changed") == []


def test_the_transfer_route_and_the_sdk(api: httpx.Client, steward: Steward) -> None:
    from modelsteward.sdk.client import Client

    people(steward, "ana", "bo")
    api.post("/api/v1/models", json={"name": "churn", "owner": "ana"})
    with Client(str(api.base_url), api.headers["Authorization"].split()[1]) as client:
        assert client.transfer_ownership("churn", "bo", "reorganisation")["owner"] == "bo"
    again = api.post("/api/v1/models/churn/owner", json={"owner": "bo", "reason": "again"})
    assert again.status_code == 409 and "already owned by bo" in again.json()["error"]["message"]
