"""Actions run on entering a state, against real models, aliases and deployments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from tests.helpers import recorded, skops_file

from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.actions.registry import (
    Action,
    ActionContext,
    ActionResult,
    action_names,
    get_action,
    register_action,
    unregister_action,
)
from modelsteward.registry.aliases import alias_history, set_alias
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import get_version, register_version
from modelsteward.serving.deployments import (
    claim_next,
    finish_revision,
    get_deployment,
    request_deploy,
)
from modelsteward.store.tables import AuditEvent


def churn_versions(steward: Steward, tmp_path: Path, count: int = 2) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    spec = VersionSpec.model_validate(
        {"flavor": "sklearn", "files": [{"role": "model", "name": "model.skops"}]}
    )
    for seed in range(count):
        blob = steward.artifacts.put_file(skops_file(tmp_path / f"v{seed}", seed=seed))
        register_version(steward, SYSTEM, "churn", spec, {"model.skops": blob})


def act(steward: Steward, action: str, version: int, **params: Any) -> ActionResult:
    """Run an after-commit action as the engine does, once the transition committed."""
    context = ActionContext(steward, SYSTEM, "churn", version, instance_id=1, params=params)
    return get_action(action).execute(context)


def apply_pending(steward: Steward) -> None:
    """Play the rollout worker: apply the pending revision."""
    claimed = claim_next(steward, "test-worker")
    assert claimed is not None
    deployment, _, revision = claimed
    finish_revision(steward, "test-worker", deployment, revision.revision, True)


def audit_count(steward: Steward) -> int:
    with steward.db.read() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_builtin_actions_ship_through_the_entry_point_registry() -> None:
    assert {"emit_event", "move_alias", "archive_version", "deploy", "drain"} <= set(action_names())
    assert get_action("emit_event").runs == "in_transaction"
    for name in ("move_alias", "archive_version", "deploy", "drain"):
        assert get_action(name).runs == "after_commit"
    with pytest.raises(InvalidInput, match="unknown action 'notify'; known actions: "):
        get_action("notify")


def test_emit_event_commits_with_the_transition_and_is_published_after(
    steward: Steward, tmp_path: Path
) -> None:
    churn_versions(steward, tmp_path, 1)
    before = audit_count(steward)
    with steward.change("engine") as change:
        context = ActionContext(
            steward, SYSTEM, "churn", 1, 5, {"name": "retirement.announced"}, change
        )
        result = get_action("emit_event").execute(context)
        assert recorded(steward, "retirement.announced") == []  # not before the commit
    assert result.summary == "emitted retirement.announced"
    [event] = recorded(steward, "retirement.announced")
    assert (event.object_type, event.object_id, event.actor) == ("version", "churn/1", "engine")
    assert event.payload == {"model": "churn", "version": 1, "instance": 5}
    assert audit_count(steward) == before + 1
    with steward.db.read() as session:
        assert verify_chain(session).ok


def test_emit_event_rolls_back_with_a_failed_transition(steward: Steward, tmp_path: Path) -> None:
    churn_versions(steward, tmp_path, 1)
    before = audit_count(steward)
    with pytest.raises(Conflict), steward.change("engine") as change:
        context = ActionContext(
            steward, SYSTEM, "churn", 1, 5, {"name": "retirement.announced"}, change
        )
        get_action("emit_event").execute(context)
        raise Conflict("the transition lost a race")
    assert recorded(steward, "retirement.announced") == [] and audit_count(steward) == before


def test_in_transaction_action_needs_the_engines_change(steward: Steward) -> None:
    with pytest.raises(ValueError, match="pass change"):
        act(steward, "emit_event", 1, name="retirement.announced")


def test_action_params_are_validated(steward: Steward) -> None:
    with pytest.raises(InvalidInput, match="action 'move_alias': invalid params: alias"):
        act(steward, "move_alias", 1)
    with pytest.raises(InvalidInput, match="belongs to a service"):
        get_action("emit_event").parse_params({"name": "deployment.changed"})
    with pytest.raises(InvalidInput, match="strategy"):
        get_action("deploy").parse_params({"environment": "prod", "strategy": "yolo"})


def test_move_alias_points_the_alias_and_a_replay_changes_nothing(
    any_steward: Steward, tmp_path: Path
) -> None:
    churn_versions(any_steward, tmp_path)
    set_alias(any_steward, SYSTEM, "churn", "champion", 1)
    result = act(any_steward, "move_alias", 2, alias="champion")
    assert result.summary == "moved champion to v2"
    assert result.details == {"alias": "champion", "from": 1, "to": 2}
    assert get_version(any_steward, "churn", "champion").version == 2
    moves = len(alias_history(any_steward, "churn"))
    assert act(any_steward, "move_alias", 2, alias="champion").summary == (
        "champion already points to v2"
    )
    assert len(alias_history(any_steward, "churn")) == moves


def test_archive_version_releases_aliases_and_keeps_records(
    any_steward: Steward, tmp_path: Path
) -> None:
    churn_versions(any_steward, tmp_path)
    set_alias(any_steward, SYSTEM, "churn", "staging", 1)
    result = act(any_steward, "archive_version", 1)
    assert result.summary == "archived v1 (released staging)"
    archived = get_version(any_steward, "churn", 1)
    assert archived.status == "archived" and archived.aliases == []
    assert any_steward.artifacts.exists(archived.files[0].sha256)
    assert act(any_steward, "archive_version", 1).summary == "v1 is already archived"


def test_archive_version_can_refuse_to_release_aliases(steward: Steward, tmp_path: Path) -> None:
    churn_versions(steward, tmp_path)
    set_alias(steward, SYSTEM, "churn", "champion", 1)
    with pytest.raises(Conflict, match="holds alias"):
        act(steward, "archive_version", 1, release_aliases=False)
    assert get_version(steward, "churn", 1).status == "active"


def test_deploy_requests_a_revision_once(any_steward: Steward, tmp_path: Path) -> None:
    churn_versions(any_steward, tmp_path)
    result = act(any_steward, "deploy", 1, environment="production")
    assert result.details["deployment"] == "churn-production"
    assert result.details["revision"] == 1
    replay = act(any_steward, "deploy", 1, environment="production")
    assert replay.summary == "v1 is already direct in production"
    deployment = get_deployment(any_steward, "churn-production")
    assert [r.status for r in deployment.revisions] == ["pending"]
    apply_pending(any_steward)
    assert act(any_steward, "deploy", 1, environment="production").details["revision"] == 1
    assert get_deployment(any_steward, "churn-production").routes == [
        {"version": 1, "role": "champion", "weight": 100}
    ]


def test_deploy_runs_the_strategies_steward_deploy_offers(steward: Steward, tmp_path: Path) -> None:
    churn_versions(steward, tmp_path)
    act(steward, "deploy", 1, environment="production")
    apply_pending(steward)
    act(steward, "deploy", 2, environment="production", strategy="ab", traffic=20)
    apply_pending(steward)
    routes = get_deployment(steward, "churn-production").routes
    assert routes == [
        {"version": 1, "role": "champion", "weight": 80},
        {"version": 2, "role": "challenger", "weight": 20, "sticky": True},
    ]


def test_drain_takes_traffic_from_a_challenger(any_steward: Steward, tmp_path: Path) -> None:
    churn_versions(any_steward, tmp_path)
    assert act(any_steward, "drain", 2).summary == "v2 takes no live traffic"
    request_deploy(any_steward, SYSTEM, "churn", 1, "production")
    apply_pending(any_steward)
    request_deploy(any_steward, SYSTEM, "churn", 2, "production", strategy="canary", traffic=30)
    apply_pending(any_steward)
    assert act(any_steward, "drain", 2).summary == "drained v2 in churn-production"
    apply_pending(any_steward)
    routes = get_deployment(any_steward, "churn-production").routes
    assert [(r["version"], r["weight"]) for r in routes] == [(1, 100), (2, 0)]
    assert act(any_steward, "drain", 2).summary == "v2 takes no live traffic"


def test_drain_refuses_to_leave_a_deployment_without_its_champion(
    steward: Steward, tmp_path: Path
) -> None:
    churn_versions(steward, tmp_path)
    request_deploy(steward, SYSTEM, "churn", 1, "production")
    apply_pending(steward)
    with pytest.raises(Conflict, match="champion of 'churn-production'; deploy a successor"):
        act(steward, "drain", 1)


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str


def test_features_register_their_own_actions(steward: Steward, tmp_path: Path) -> None:
    sent: list[tuple[str, int]] = []

    def notify(context: ActionContext, params: _Channel) -> ActionResult:
        sent.append((params.channel, context.version))
        return ActionResult(f"notified {params.channel}")

    register_action(Action("notify", "Tell a channel.", _Channel, "after_commit", notify))
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_action(Action("deploy", "impostor", _Channel, "after_commit", notify))
        assert act(steward, "notify", 3, channel="ops").summary == "notified ops"
        assert sent == [("ops", 3)]
    finally:
        unregister_action("notify")
    assert "notify" not in action_names()
