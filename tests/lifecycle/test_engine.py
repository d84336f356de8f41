"""The engine at run time: instances start on registration, transitions obey their gates."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.lifecycle.workbench import (
    DOCUMENTED,
    GATED,
    OPEN,
    define,
    engine,
    has_instance,
    history_count,
    person,
    production_rows,
    register,
    status,
)

from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.events.domain import DomainEvent
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.engine import on_event
from modelsteward.lifecycle.instances import start_instance
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.store import save_definition
from modelsteward.lifecycle.tables import LifecycleInstance
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import RuleSpec
from modelsteward.registry.versions import get_version
from modelsteward.serving.runtime import ServingRuntime
from modelsteward.store.tables import AuditEvent


def move(steward: Steward, model: str, version: int, name: str, who: Principal = SYSTEM) -> str:
    current = status(steward, model, version)
    return transition(steward, current.id, name, who, current.revision).outcome


def test_registering_a_version_starts_it_on_the_standard_life_cycle(any_steward: Steward) -> None:
    engine(any_steward)
    version = register(any_steward)
    instance = status(any_steward, "churn", version)
    assert (instance.definition, instance.definition_version) == ("standard", 1)
    assert instance.state == "registered" and instance.status == "running"
    assert [h.outcome for h in instance.history] == ["started"]
    assert {t.name for t in instance.available_transitions} == {"validate", "retire"}


def test_standard_life_cycle_end_to_end_with_approvals_by_different_users(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    version = register(steward)
    sam = person(steward, "data-scientist", "sam")
    rita = person(steward, "risk-manager", "rita")
    otto = person(steward, "operator", "otto")

    assert move(steward, "churn", version, "validate", sam) == "applied"
    assert move(steward, "churn", version, "approve", sam) == "waiting"
    waiting = status(steward, "churn", version)
    assert waiting.state == "validated" and [t.role for t in waiting.open_tasks] == ["risk-manager"]

    decided = decide(steward, waiting.open_tasks[0].id, rita, "approve", "looks sound")
    assert decided.task.status == "approved"
    assert decided.completed is not None and decided.completed.outcome == "applied"
    assert move(steward, "churn", version, "deploy", otto) == "applied"
    deployed = status(steward, "churn", version)
    assert deployed.state == "deployed" and deployed.production
    assert get_version(steward, "churn", version).aliases == []  # not before it serves
    ServingRuntime(steward).sync()  # the rollout applies: champion follows its routes
    assert get_version(steward, "churn", "champion").version == version
    assert move(steward, "churn", version, "monitor", otto) == "applied"
    assert move(steward, "churn", version, "retire", otto) == "applied"

    done = status(steward, "churn", version)
    assert done.state == "retired" and done.status == "finished" and not done.production
    applied = [(h.transition, h.actor) for h in done.history if h.outcome == "applied"]
    assert applied == [
        ("validate", "sam"),
        ("approve", "rita"),
        ("deploy", "otto"),
        ("monitor", "otto"),
        ("retire", "otto"),
    ]
    assert get_version(steward, "churn", version).status == "archived"
    assert production_rows(steward) == []
    with steward.db.read() as session:
        assert verify_chain(session).ok
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "lifecycle.started",
        "lifecycle.transitioned",
        "task.opened",
        "task.approved",
    } <= actions


def test_a_failed_check_blocks_the_transition_and_records_every_gate(any_steward: Steward) -> None:
    steward = engine(any_steward)
    define(steward, GATED)
    version = register(steward, metrics={"auc": 0.5})
    before = status(steward, "churn", version)
    outcome = transition(steward, before.id, "check", SYSTEM, before.revision)
    assert outcome.outcome == "blocked" and outcome.instance.state == "draft"
    assert outcome.instance.revision == before.revision
    blocked = outcome.instance.history[-1]
    assert blocked.outcome == "blocked" and blocked.transition == "check"
    assert blocked.gates[0]["name"] == "metric_threshold" and not blocked.gates[0]["passed"]
    assert "0.5" in blocked.gates[0]["summary"]


def test_a_transition_not_allowed_from_the_current_state_changes_nothing(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    version = register(steward)
    before = status(steward, "churn", version)
    records = history_count(steward)
    with pytest.raises(Conflict, match="'deploy' is not allowed from state 'registered'"):
        transition(steward, before.id, "deploy", SYSTEM, before.revision)
    with pytest.raises(InvalidInput, match="has no transition 'teleport'"):
        transition(steward, before.id, "teleport", SYSTEM, before.revision)
    after = status(steward, "churn", version)
    assert (after.state, after.revision) == (before.state, before.revision)
    assert history_count(steward) == records


def test_a_stale_expected_revision_gets_409_and_changes_nothing(any_steward: Steward) -> None:
    steward = engine(any_steward)
    version = register(steward)
    before = status(steward, "churn", version)
    with pytest.raises(Conflict, match="changed since you read it") as refused:
        transition(steward, before.id, "validate", SYSTEM, before.revision - 1)
    assert refused.value.status == 409
    after = status(steward, "churn", version)
    assert (after.state, after.revision, len(after.history)) == (
        before.state,
        before.revision,
        len(before.history),
    )


def test_at_most_one_version_of_a_model_is_in_production(any_steward: Steward) -> None:
    steward = engine(any_steward)
    define(steward, OPEN)
    first, second = register(steward), register(steward)
    assert move(steward, "churn", first, "promote") == "applied"
    with pytest.raises(Conflict, match=f"already has version {first} in a production state"):
        move(steward, "churn", second, "promote")
    assert status(steward, "churn", second).state == "new"
    assert move(steward, "churn", first, "finish") == "applied"
    assert move(steward, "churn", second, "promote") == "applied"
    assert len(production_rows(steward)) == 1


def test_rules_pick_the_life_cycle_by_risk_tier_and_pin_its_version(any_steward: Steward) -> None:
    steward = engine(any_steward)
    save_definition(steward, GATED, "yaml", SYSTEM)
    put_rules(
        steward,
        SYSTEM,
        [
            RuleSpec(priority=10, definition="gated", risk_tier="medium"),
            RuleSpec(priority=20, definition="standard"),
        ],
    )
    version = register(steward)
    assert status(steward, "churn", version).definition == "gated"
    changed = save_definition(
        steward, GATED.replace("name: draft", "name: draft\n    description: x"), "yaml", SYSTEM
    )
    assert changed.created and changed.definition.version == 2
    assert status(steward, "churn", version).definition_version == 1
    assert status(steward, "churn", register(steward)).definition_version == 2


def test_without_a_matching_rule_a_version_follows_no_life_cycle(any_steward: Steward) -> None:
    steward = engine(any_steward)
    put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition="regulated", team="risk")])
    version = register(steward)
    assert not has_instance(steward, "churn", version)
    with pytest.raises(NotFound, match="follows no life cycle"):
        status(steward, "churn", version)


def test_starting_an_instance_twice_keeps_the_first(any_steward: Steward) -> None:
    steward = engine(any_steward)
    version = register(steward)
    first = status(steward, "churn", version).id
    assert start_instance(steward, "churn", version, SYSTEM) == first
    with any_steward.db.read() as session:
        assert session.scalar(select(func.count()).select_from(LifecycleInstance)) == 1


def test_a_model_runs_through_regulated_with_independent_approvals(any_steward: Steward) -> None:
    steward = engine(any_steward)
    put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition="regulated", risk_tier="high")])
    facts = {"description": "credit risk", "use_case": "loan decisions", "risk_tier": "high"}
    version = register(steward, "credit", model_facts=facts, **DOCUMENTED)
    rita, raj = person(steward, "risk-manager", "rita"), person(steward, "risk-manager", "raj")
    rosa = person(steward, "risk-manager", "rosa")

    assert move(steward, "credit", version, "submit") == "applied"
    assert move(steward, "credit", version, "validate") == "waiting"
    task = status(steward, "credit", version).open_tasks[0]
    assert decide(steward, task.id, rita, "approve").completed is not None
    assert move(steward, "credit", version, "approve") == "waiting"
    task = status(steward, "credit", version).open_tasks[0]
    assert task.needed == 2
    decide(steward, task.id, rosa, "approve")  # not rita: she validated it
    assert decide(steward, task.id, raj, "approve").completed is not None
    assert move(steward, "credit", version, "deploy") == "applied"
    assert status(steward, "credit", version).state == "production"

    on_event(
        steward,
        DomainEvent(
            name="metric.breached",
            actor="monitor",
            object_type="monitor",
            object_id="credit-drift",
            payload={"model": "credit", "version": version},
        ),
    )
    breached = status(steward, "credit", version)
    assert breached.state == "revalidation" and breached.production
    assert breached.history[-1].reason == "event metric.breached"
    assert len(production_rows(steward)) == 1


def test_rules_match_on_team_and_tag_in_priority_order(any_steward: Steward) -> None:
    steward = engine(any_steward)
    save_definition(steward, GATED, "yaml", SYSTEM)
    put_rules(
        steward,
        SYSTEM,
        [
            RuleSpec(priority=1, definition="retirement", team="legacy", tag="domain=credit"),
            RuleSpec(priority=2, definition="gated", tag="domain=credit"),
            RuleSpec(priority=3, definition="regulated", team="risk"),
            RuleSpec(priority=4, definition="standard"),
        ],
    )
    picks = {
        "scoring": {"team": "risk", "tags": {"domain": "credit"}},
        "fraud": {"team": "risk"},
        "archive": {"team": "legacy", "tags": {"domain": "credit"}},
        "iris": {},
    }
    for name, facts in picks.items():
        register(steward, name, model_facts=facts)
    assert {n: status(steward, n, 1).definition for n in picks} == {
        "scoring": "gated",
        "fraud": "regulated",
        "archive": "retirement",
        "iris": "standard",
    }
