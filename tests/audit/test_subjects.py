"""A model's audit trail holds every record that concerns it, whatever object it is kept
under: the model, its versions, life cycle instances, tasks, deployments and monitors.

The history is built through the services and a live server, as the demo builds its own:
a version validated, approved by a risk manager from a task, deployed to production (its
default monitors are created), and a second model beside it whose records stay out.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of, settle
from tests.web.conftest import ADMIN, add_version, skops_file  # noqa: F401  (a fixture)
from tests.web.deploying import deploy

from modelsteward.audit.trail import list_events
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, Principal, create_user
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.transitions import transition
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec
from modelsteward.store.tables import AuditEvent

MODEL, OTHER = "credit-approval", "credit-approvals"  # a name that starts like the other
FEATURES = ["age", "income", "debt_ratio", "open_accounts"]


def _history(steward: Steward, api: httpx.Client, model_file: Path) -> None:
    create_user(steward, SYSTEM, "dana", "data-scientist")
    create_user(steward, SYSTEM, "rita", "risk-manager")
    dana, rita = Principal("dana", "data-scientist"), Principal("rita", "risk-manager")
    blob = steward.artifacts.put_file(model_file)
    schema = {"columns": [{"name": n, "type": "float", "dtype": "float64"} for n in FEATURES]}
    for name in (MODEL, OTHER):
        create_model(steward, ADMIN, ModelSpec(name=name, description="Loans.", owner="admin"))
        add_version(
            steward,
            name,
            blob,
            description="First candidate.",
            input_schema=schema,
            metrics={"auc": 0.91},
            tests=[{"name": "auc-floor", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
        )
    settle(steward)  # the life cycles start
    for step in ("validate", "approve"):
        instance = version_lifecycle(steward, MODEL, 1)
        transition(steward, instance.id, step, dana, instance.revision)
    (task,) = version_lifecycle(steward, MODEL, 1).open_tasks
    decide(steward, task.id, rita, "approve", "Back-test reviewed.")
    assert deploy(api, MODEL, 1, "production")["status"] == "applied"
    settle(steward)  # the default monitors are created


def test_a_models_trail_has_its_versions_life_cycle_tasks_deployments_and_monitors(
    steward: Steward,
    server: str,
    api: httpx.Client,
    skops_file: Path,  # noqa: F811
) -> None:
    _history(steward, api, skops_file)
    found = list_events(steward, model=MODEL, limit=1000)
    kinds = {e["object_type"] for e in found}
    assert {"model", "version", "lifecycle", "task", "deployment", "monitor"} <= kinds
    with steward.db.read() as session:
        everything = session.query(AuditEvent).all()
        deployment_monitors = {
            e.object_id
            for e in everything
            if e.object_type == "monitor"
            and (e.after or {}).get("deployment") == f"{MODEL}-production"
        }
        expected = {
            e.seq
            for e in everything
            if (e.object_type, e.object_id) in {("model", MODEL), ("version", f"{MODEL}/1")}
            or (e.object_type == "lifecycle" and e.object_id == f"{MODEL}/1")
            or (e.object_type == "deployment" and e.object_id == f"{MODEL}-production")
            or (e.object_type == "monitor" and e.object_id in deployment_monitors)
            or (e.object_type == "task" and (e.after or {}).get("model") == MODEL)
        }
    got = {e["seq"] for e in found}
    assert expected <= got
    assert all(OTHER not in str(e["object_id"]) for e in found)
    assert len(got) > len(list_events(steward, object_type="model", object_id=MODEL))

    headers = {"Authorization": f"Bearer {admin_token_of(steward)}"}
    by_api = httpx.get(
        f"{server}/api/v1/audit", params={"model": MODEL, "limit": 1000}, headers=headers
    ).json()
    assert {e["seq"] for e in by_api} == got

    env = {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    cli = steward_cli("audit", "list", "--model", MODEL, "--limit", "1000", "--json", env=env)
    assert {e["seq"] for e in json.loads(cli.stdout)} == got
    table = steward_cli("audit", "list", "--model", MODEL, "--limit", "3", env=env).stdout
    assert "the newest 3" in table

    with httpx.Client(base_url=server) as browser:
        signed_in = browser.post(
            "/login",
            data={"method": "token", "token": admin_token_of(steward), "next": "/"},
            headers={"Origin": server},
        )
        assert signed_in.status_code == 303
        page = browser.get(f"/models/{MODEL}").text
    panel = page[page.index('id="audit-title"') :]
    for kind in ("version", "lifecycle", "task", "deployment", "monitor"):
        assert f'<td class="nowrap">{kind} ' in panel, kind
