"""Champion and challenger have one truth: the production deployment's route roles.

In the demo the registry once said champion -> v2, challenger -> v1 while the
deployment served "v1 champion 80%, v2 challenger 20%". Now an applied production
revision moves the aliases in its own transaction, and moving them by hand is refused.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of, recorded
from tests.serving.test_deployments import churn, deploy  # noqa: F401  (fixture)

from modelsteward.context import Steward

pytestmark = pytest.mark.usefixtures("ungoverned")


def aliases(api: httpx.Client) -> dict[str, int]:
    return dict(api.get("/api/v1/models/churn").json()["aliases"])


def roles(api: httpx.Client, name: str = "churn-production") -> dict[str, int]:
    return {
        r["role"]: r["version"] for r in api.get(f"/api/v1/deployments/{name}").json()["routes"]
    }


def wait(api: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    from tests.serving.test_deployments import wait_for

    assert response.status_code == 202, response.text
    return wait_for(api, response.json())


def test_aliases_follow_the_production_routes_of_a_hand_built_deployment(
    churn: httpx.Client,  # noqa: F811
    steward: Steward,
) -> None:
    deploy(churn, 1)
    assert aliases(churn) == roles(churn) == {"champion": 1}
    deploy(churn, 2, "canary", traffic=20)
    assert roles(churn) == {"champion": 1, "challenger": 2}
    assert aliases(churn) == {"champion": 1, "challenger": 2}
    moved = [(e.actor, e.payload) for e in recorded(steward, "alias.moved")]
    assert moved[-1] == ("system:rollout", {"alias": "challenger", "version": 2})

    refused = churn.put("/api/v1/models/churn/aliases/champion", json={"version": 2})
    assert refused.status_code == 409
    assert "follows the routes of deployment 'churn-production'" in refused.text
    assert churn.delete("/api/v1/models/churn/aliases/challenger").status_code == 409
    assert aliases(churn) == {"champion": 1, "challenger": 2}

    wait(churn, churn.post("/api/v1/deployments/churn-production/rollback", json={}))
    assert roles(churn) == aliases(churn) == {"champion": 1}
    [removed] = recorded(steward, "alias.removed")
    assert removed.payload == {"alias": "challenger", "version": 2}

    env = {"STEWARD_URL": str(churn.base_url), "STEWARD_TOKEN": admin_token_of(steward)}
    shown = steward_cli("models", "show", "churn", env=env).stdout
    assert "champion" in shown and "challenger" not in shown
    assert (
        "v1 champion 100%" in steward_cli("deployments", "show", "churn-production", env=env).stdout
    )


def test_other_aliases_and_other_environments_stay_by_hand(
    churn: httpx.Client,  # noqa: F811
) -> None:
    staged = churn.post(
        "/api/v1/deployments",
        json={"model": "churn", "version": 2, "environment": "staging"},
    )
    wait(churn, staged)
    assert aliases(churn) == {}  # staging routes decide nothing
    assert (
        churn.put("/api/v1/models/churn/aliases/champion", json={"version": 2}).status_code == 200
    )
    deploy(churn, 1)  # production now decides the champion
    assert aliases(churn) == {"champion": 1}
    assert churn.put("/api/v1/models/churn/aliases/staging", json={"version": 2}).status_code == 200
    assert aliases(churn) == {"champion": 1, "staging": 2}
