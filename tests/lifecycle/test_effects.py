"""Entering a state: auto transitions, and on_enter actions in and after the transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.helpers import recorded, settle
from tests.lifecycle.workbench import (
    OPEN,
    define,
    engine,
    person,
    production_rows,
    register,
    status,
)

from modelsteward.context import Steward
from modelsteward.errors import Conflict
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.actions.registry import (
    Action,
    ActionContext,
    ActionResult,
    NoParams,
    register_action,
    unregister_action,
)
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.transitions import transition
from modelsteward.registry.versions import set_version_status


def move(steward: Steward, version: int, name: str) -> str:
    current = status(steward, "churn", version)
    return transition(steward, current.id, name, SYSTEM, current.revision).outcome


AUTO = """
name: auto-flow
initial: new
states:
  - name: new
  - name: screened
  - name: approved
  - name: gone
    terminal: true
transitions:
  - name: screen
    from: new
    to: screened
    trigger: auto
    gates:
      - check: metric_threshold
        params: {metric: auc, min: 0.8}
  - name: sign-off
    from: screened
    to: approved
    trigger: auto
    gates:
      - approval: {role: risk-manager}
  - name: drop
    from: [new, screened, approved]
    to: gone
"""


def test_auto_transitions_are_taken_as_soon_as_their_gates_pass(any_steward: Steward) -> None:
    steward = engine(any_steward)
    define(steward, AUTO)
    good = register(steward)
    instance = status(steward, "churn", good)
    assert instance.state == "screened"
    assert [(h.outcome, h.transition) for h in instance.history] == [
        ("started", None),
        ("applied", "screen"),
        ("waiting", "sign-off"),
    ]
    task = instance.open_tasks[0]
    decided = decide(steward, task.id, person(steward, "risk-manager", "rita"), "approve")
    assert decided.completed is not None and decided.completed.instance.state == "approved"

    weak = register(steward, metrics={"auc": 0.6})
    stuck = status(steward, "churn", weak)
    assert stuck.state == "new" and stuck.history[-1].outcome == "blocked"


def test_an_in_transaction_action_commits_with_the_transition(any_steward: Steward) -> None:
    steward = engine(any_steward)
    define(
        steward,
        OPEN.replace(
            "    production: true\n",
            "    production: true\n    on_enter:\n"
            "      - action: emit_event\n        params: {name: churn.promoted}\n",
        ),
    )
    version = register(steward)
    assert move(steward, version, "promote") == "applied"
    assert [e.payload["version"] for e in recorded(steward, "churn.promoted")] == [version]
    entered = status(steward, "churn", version).history[-1]
    assert (entered.outcome, entered.reason) == ("action", "emit_event: emitted churn.promoted")


def test_an_after_commit_action_that_fails_is_recorded_and_the_transition_stands(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    define(
        steward,
        OPEN.replace(
            "    production: true\n",
            "    production: true\n    on_enter:\n"
            "      - action: deploy\n        params: {environment: production}\n",
        ),
    )
    version = register(steward)
    settle(steward)  # its instance starts, then the version is archived
    set_version_status(steward, SYSTEM, "churn", version, "archived")
    assert move(steward, version, "promote") == "applied"
    instance = status(steward, "churn", version)
    assert instance.state == "serving"
    failed = instance.history[-1]
    assert failed.outcome == "action_failed" and failed.reason.startswith("deploy: ")


def _refuse(context: ActionContext, params: NoParams) -> ActionResult:
    raise Conflict(f"{context.model} v{context.version} may not enter today")


@pytest.fixture
def refusing_action() -> Iterator[str]:
    action = Action("refuse_entry", "Always fails.", NoParams, "in_transaction", _refuse)
    register_action(action)
    yield action.name
    unregister_action(action.name)


def test_an_in_transaction_action_that_fails_undoes_the_transition(
    any_steward: Steward, refusing_action: str
) -> None:
    steward = engine(any_steward)
    define(
        steward,
        OPEN.replace(
            "    production: true\n",
            f"    production: true\n    on_enter:\n      - action: {refusing_action}\n",
        ),
    )
    version = register(steward)
    before = status(steward, "churn", version)
    with pytest.raises(Conflict, match="may not enter today"):
        move(steward, version, "promote")
    after = status(steward, "churn", version)
    assert (after.state, after.revision, after.history) == (
        before.state,
        before.revision,
        before.history,
    )
    assert production_rows(steward) == []
