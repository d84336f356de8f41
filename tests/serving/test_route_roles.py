"""Champion and challenger have one truth: the production deployment's route roles.

In the demo the registry once said champion -> v2, challenger -> v1 while the
deployment served "v1 champion 80%, v2 challenger 20%" and v1's timeline said "moved
champion to v1". Now the rollout that applies a production revision moves the aliases
in its own transaction, nobody moves them by hand, and the life cycle's timeline says
that the routes decide.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of, recorded
from tests.lifecycle.workbench import engine, person, register, status
from tests.serving.test_deployments import churn, deploy, wait_for  # noqa: F401  (fixture)

from modelsteward.context import Steward
from modelsteward.demo.lifecycles import approve_standard, walk_standard
from modelsteward.errors import Conflict
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.views import RuleSpec
from modelsteward.registry.aliases import alias_history, set_alias
from modelsteward.registry.models import get_model
from modelsteward.serving.deployments import get_deployment, request_deploy
from modelsteward.serving.runtime import ServingRuntime

FOLLOWS = "follows the production routes of deployment 'churn-production'"


def test_the_demo_canary_reads_the_same_in_the_registry_the_deployment_and_the_timeline(
    steward: Steward,
) -> None:
    steward = engine(steward)
    put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition="standard")])
    people = {
        "dana": person(steward, "data-scientist", "dana"),
        "omar": person(steward, "operator", "omar"),
        "rita": person(steward, "risk-manager", "rita"),
    }
    first, second = register(steward), register(steward)
    serving = ServingRuntime(steward)  # applies each requested deployment, as a server does
    walk_standard(steward, people, "churn", lambda _: None)  # v1: approved, deployed
    serving.sync()
    approve_standard(steward, people, "churn", second)
    omar = people["omar"]
    request_deploy(steward, omar, "churn", second, "production", strategy="canary", traffic=20)
    serving.sync()

    routes = get_deployment(steward, "churn-production").routes
    assert {r["role"]: (r["version"], r["weight"]) for r in routes} == {
        "champion": (first, 80),
        "challenger": (second, 20),
    }
    assert get_model(steward, "churn").aliases == {"champion": first, "challenger": second}
    history = alias_history(steward, "churn")
    moves = [(c.alias, c.from_version, c.to_version, c.changed_by) for c in history]
    assert moves == [  # each moved by the rollout that gave the role, not before it
        ("champion", None, first, "system:rollout"),
        ("challenger", None, second, "system:rollout"),
    ]
    timeline = [h.reason for v in (first, second) for h in status(steward, "churn", v).history]
    assert not [line for line in timeline if "moved champion" in line]
    left = f"champion {FOLLOWS} (now unset); it points at v{first} once a rollout there"
    assert f"move_alias: {left} makes v{first} champion" in timeline

    with pytest.raises(Conflict, match=re.escape(FOLLOWS)):
        set_alias(steward, SYSTEM, "churn", "champion", second)
    assert get_model(steward, "churn").aliases == {"champion": first, "challenger": second}


def aliases(api: httpx.Client) -> dict[str, int]:
    return dict(api.get("/api/v1/models/churn").json()["aliases"])


def roles(api: httpx.Client) -> dict[str, int]:
    view = api.get("/api/v1/deployments/churn-production").json()
    return {r["role"]: r["version"] for r in view["routes"]}


def wait(api: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    return wait_for(api, response.json())


@pytest.mark.usefixtures("ungoverned")
def test_the_api_the_cli_and_the_pages_read_the_roles_of_the_production_routes(
    churn: httpx.Client,  # noqa: F811
    steward: Steward,
) -> None:
    deploy(churn, 1)
    assert aliases(churn) == roles(churn) == {"champion": 1}
    deploy(churn, 2, "canary", traffic=20)
    assert aliases(churn) == roles(churn) == {"champion": 1, "challenger": 2}

    env = {"STEWARD_URL": str(churn.base_url), "STEWARD_TOKEN": admin_token_of(steward)}
    shown = steward_cli("deployments", "show", "churn-production", env=env).stdout
    assert "v1 champion 80%" in shown and "v2 challenger 20%" in shown
    versions = steward_cli("models", "show", "churn", env=env).stdout
    assert re.search(r"│\s*1\s*│.*champion", versions) and re.search(
        r"│\s*2\s*│.*challenger", versions
    )
    page = churn.get("/models/churn").text
    assert re.search(r"champion <span class=\"chip-value\">v1</span>", page)
    assert re.search(r"challenger <span class=\"chip-value\">v2</span>", page)

    refused = churn.put("/api/v1/models/churn/aliases/champion", json={"version": 2})
    assert refused.status_code == 409 and FOLLOWS in refused.text
    assert churn.delete("/api/v1/models/churn/aliases/challenger").status_code == 409
    archived = churn.post("/api/v1/models/churn/versions/1/archive")
    assert archived.status_code == 409 and "deploy a successor there first" in archived.text
    assert aliases(churn) == {"champion": 1, "challenger": 2}

    wait(churn, churn.post("/api/v1/deployments/churn-production/rollback", json={}))
    assert aliases(churn) == roles(churn) == {"champion": 1}
    [removed] = recorded(steward, "alias.removed")
    assert (removed.actor, removed.payload) == (
        "system:rollout",
        {"alias": "challenger", "version": 2},
    )
    deploy(churn, 2, "shadow")  # a shadow is the challenger while no canary or A/B is
    assert aliases(churn) == {"champion": 1, "challenger": 2}


@pytest.mark.usefixtures("ungoverned")
def test_other_aliases_and_other_environments_are_moved_by_hand(
    churn: httpx.Client,  # noqa: F811
) -> None:
    staged = churn.post(
        "/api/v1/deployments", json={"model": "churn", "version": 2, "environment": "staging"}
    )
    wait(churn, staged)
    assert aliases(churn) == {}  # staging routes decide nothing
    assert (
        churn.put("/api/v1/models/churn/aliases/champion", json={"version": 2}).status_code == 200
    )
    deploy(churn, 1)  # production now decides who is champion
    assert aliases(churn) == {"champion": 1}
    assert churn.put("/api/v1/models/churn/aliases/staging", json={"version": 2}).status_code == 200
    assert aliases(churn) == {"champion": 1, "staging": 2}
