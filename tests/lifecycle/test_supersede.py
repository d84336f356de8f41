"""Handing production over: a successor entering a ``supersedes`` state retires the holder.

At most one version of a model is in production; a promotion therefore moves the old
champion out in the same transaction, through the old champion's own ``retire``
transition, instead of failing with 409.
"""

from __future__ import annotations

import pytest
from tests.lifecycle.test_definitions import only_problem
from tests.lifecycle.workbench import (
    define,
    engine,
    person,
    production_rows,
    register,
    status,
)

from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward
from modelsteward.errors import Conflict
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import RuleSpec
from modelsteward.registry.aliases import alias_history
from modelsteward.registry.versions import get_version
from modelsteward.serving.deployments import list_deployments
from modelsteward.serving.runtime import ServingRuntime

HANDOVER = """
name: handover
initial: candidate
states:
  - name: candidate
  - name: champion
    production: true
    supersedes: retire
  - name: retired
    terminal: true
transitions:
  - name: promote
    from: candidate
    to: champion
  - name: retire
    from: [candidate, champion]
    to: retired
"""

# A holder whose life cycle has no 'retire': production cannot be handed over.
STUCK = """
name: stuck
initial: new
states:
  - name: new
  - name: serving
    production: true
  - name: done
    terminal: true
transitions:
  - name: promote
    from: new
    to: serving
  - name: finish
    from: [new, serving]
    to: done
"""


def move(steward: Steward, version: int, name: str, who: Principal = SYSTEM) -> str:
    current = status(steward, "churn", version)
    return transition(steward, current.id, name, who, current.revision).outcome


def test_promoting_a_successor_retires_the_champion_in_the_same_step(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    define(steward, HANDOVER)
    first, second = register(steward), register(steward)
    assert move(steward, first, "promote") == "applied"

    assert move(steward, second, "promote") == "applied"

    old, new = status(steward, "churn", first), status(steward, "churn", second)
    assert (old.state, old.status) == ("retired", "finished")
    assert new.state == "champion"
    assert [r[1] for r in production_rows(steward)] == [new.id]
    handover = old.history[-1]
    assert handover.transition == "retire" and "superseded by v2" in handover.reason
    with steward.db.read() as session:
        assert verify_chain(session).ok


def test_a_holder_without_the_superseding_transition_stops_the_promotion(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    define(steward, STUCK)
    first = register(steward)
    assert move(steward, first, "promote") == "applied"
    define(steward, HANDOVER)
    second = register(steward)

    with pytest.raises(Conflict, match="no 'retire' transition"):
        move(steward, second, "promote")

    assert status(steward, "churn", first).state == "serving"
    assert status(steward, "churn", second).state == "candidate"
    assert [r[1] for r in production_rows(steward)] == [status(steward, "churn", first).id]


def test_only_a_production_state_may_supersede() -> None:
    text = HANDOVER.replace("    supersedes: retire\n", "").replace(
        "  - name: candidate\n", "  - name: candidate\n    supersedes: retire\n", 1
    )
    line, message, _ = only_problem(text)
    assert line == 6 and "not a production state" in message


def test_a_retrained_candidate_goes_through_champion_challenger_and_replaces_the_champion(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    put_rules(
        steward,
        SYSTEM,
        [
            RuleSpec(priority=1, definition="champion-challenger", tag="origin=retraining"),
            RuleSpec(priority=2, definition="standard"),
        ],
    )
    sam, rita = person(steward, "data-scientist", "sam"), person(steward, "risk-manager", "rita")
    otto = person(steward, "operator", "otto")
    champion = register(steward)
    assert move(steward, champion, "validate", sam) == "applied"
    assert move(steward, champion, "approve", sam) == "waiting"
    decide(steward, status(steward, "churn", champion).open_tasks[0].id, rita, "approve")
    serving = ServingRuntime(steward)  # applies each requested deployment, as a server does
    assert move(steward, champion, "deploy", otto) == "applied"
    serving.sync()
    assert move(steward, champion, "monitor", otto) == "applied"

    candidate = register(steward, tags={"origin": "retraining"})
    assert status(steward, "churn", candidate).definition == "champion-challenger"
    assert status(steward, "churn", candidate).state == "evaluated"  # its tests passed
    assert move(steward, candidate, "shadow", otto) == "applied"
    serving.sync()
    for step in ("start_ab", "promote"):
        assert move(steward, candidate, step, sam) == "waiting"
        task = status(steward, "churn", candidate).open_tasks[0]
        assert decide(steward, task.id, otto, "approve").completed is not None
        serving.sync()

    old, new = status(steward, "churn", champion), status(steward, "churn", candidate)
    assert (new.state, new.production) == ("promoted", True)
    assert (old.state, old.production) == ("retired", False)
    [handover] = [h for h in old.history if h.transition == "retire"]
    assert handover.actor == "otto" and "superseded by v2" in handover.reason
    assert get_version(steward, "churn", "champion").version == candidate
    assert get_version(steward, "churn", champion).status == "archived"
    # Archiving the old champion left its alias to the routes; the promotion's rollout moved it.
    routes = "the production routes of deployment 'churn-production'"
    assert old.history[-1].reason == f"archive_version: archived v1 (champion left to {routes})"
    history = alias_history(steward, "churn")
    assert [(c.alias, c.from_version, c.to_version, c.changed_by) for c in history][-2:] == [
        ("champion", champion, candidate, "system:rollout"),
        ("challenger", candidate, None, "system:rollout"),
    ]
    [deployment] = list_deployments(steward)
    assert [(r["version"], r["role"]) for r in deployment.routes] == [(candidate, "champion")]
    assert not [h for h in new.history if h.outcome == "action_failed"]
    with steward.db.read() as session:
        assert verify_chain(session).ok
