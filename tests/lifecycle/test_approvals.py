"""Approval tasks: who may decide, one vote each, rejection, the inbox and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.helpers import recorded
from tests.lifecycle.workbench import GATED, define, engine, history_count, person, register, status

from modelsteward.context import Steward
from modelsteward.errors import Conflict, Forbidden, NotFound
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.reading import get_task, list_tasks
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import TaskView
from modelsteward.store.tables import AuditEvent


def released_task(steward: Steward, **register_args: str) -> TaskView:
    """A version of ``churn`` on ``gated``, checked, with its release task open."""
    engine(steward)
    define(steward, GATED)
    version = register(steward, **register_args)
    for name in ("check", "release"):
        current = status(steward, "churn", version)
        transition(steward, current.id, name, SYSTEM, current.revision)
    waiting = status(steward, "churn", version)
    assert waiting.state == "checked" and len(waiting.open_tasks) == 1
    return waiting.open_tasks[0]


def test_two_different_risk_managers_release_the_version(any_steward: Steward) -> None:
    task = released_task(any_steward)
    assert (task.role, task.needed, task.approvals) == ("risk-manager", 2, 0)
    first = decide(any_steward, task.id, person(any_steward, "risk-manager", "rita"), "approve")
    assert first.task.status == "open" and first.task.approvals == 1 and first.completed is None
    assert status(any_steward, "churn", 1).state == "checked"
    second = decide(any_steward, task.id, person(any_steward, "risk-manager", "raj"), "approve")
    assert second.task.status == "approved" and second.completed is not None
    assert second.completed.outcome == "applied" and second.completed.instance.state == "live"
    applied = status(any_steward, "churn", 1).history[-1]
    assert (applied.transition, applied.actor, applied.outcome) == ("release", "raj", "applied")


def test_second_approval_by_the_same_person_is_rejected(any_steward: Steward) -> None:
    task = released_task(any_steward)
    rita = person(any_steward, "risk-manager", "rita")
    decide(any_steward, task.id, rita, "approve")
    with pytest.raises(Conflict, match="rita already decided task"):
        decide(any_steward, task.id, rita, "approve")
    with pytest.raises(Conflict, match="one vote each"):
        decide(any_steward, task.id, rita, "reject")
    assert get_task(any_steward, task.id).approvals == 1


def test_the_submitter_may_not_approve_their_own_version(any_steward: Steward) -> None:
    task = released_task(any_steward, submitter="sara")
    sara_as_risk = Principal("sara", "risk-manager")
    with pytest.raises(Forbidden, match="separation of duties: sara submitted churn version 1"):
        decide(any_steward, task.id, sara_as_risk, "approve")
    assert get_task(any_steward, task.id).decisions == []


def test_the_models_owner_may_not_approve(any_steward: Steward) -> None:
    task = released_task(any_steward, owner="rowan")
    with pytest.raises(Forbidden, match="rowan owns model churn"):
        decide(any_steward, task.id, person(any_steward, "risk-manager", "rowan"), "approve")


def test_an_admin_may_stand_in_for_a_role_but_not_bypass_separation_of_duties(
    any_steward: Steward,
) -> None:
    task = released_task(any_steward, submitter="admin")
    admin = Principal("admin", "admin")
    with pytest.raises(Forbidden, match="separation of duties: admin submitted"):
        decide(any_steward, task.id, admin, "approve")
    other_admin = person(any_steward, "admin", "ada")
    assert decide(any_steward, task.id, other_admin, "approve").task.approvals == 1


def test_a_decision_by_the_wrong_role_is_rejected(any_steward: Steward) -> None:
    task = released_task(any_steward)
    otto = person(any_steward, "operator", "otto")
    with pytest.raises(Forbidden, match="is for role 'risk-manager'; otto is 'operator'"):
        decide(any_steward, task.id, otto, "approve")
    assert get_task(any_steward, task.id).decisions == []


def test_a_rejection_closes_the_task_and_the_instance_stays(any_steward: Steward) -> None:
    task = released_task(any_steward)
    rita = person(any_steward, "risk-manager", "rita")
    rejected = decide(any_steward, task.id, rita, "reject", "fairness report missing")
    assert rejected.task.status == "rejected" and rejected.completed is None
    instance = status(any_steward, "churn", 1)
    assert instance.state == "checked" and instance.open_tasks == []
    last = instance.history[-1]
    assert (last.outcome, last.actor, last.reason) == (
        "rejected",
        "rita",
        "fairness report missing",
    )
    [event] = recorded(any_steward, "task.rejected")
    assert event.object_id == str(task.id) and event.payload["comment"] == "fairness report missing"
    again = transition(any_steward, instance.id, "release", SYSTEM, instance.revision)
    assert again.outcome == "waiting" and again.instance.open_tasks[0].id != task.id


def test_deciding_an_unknown_or_closed_task_is_a_clear_error(any_steward: Steward) -> None:
    task = released_task(any_steward)
    rita = person(any_steward, "risk-manager", "rita")
    with pytest.raises(NotFound, match="task 9999 not found"):
        decide(any_steward, 9999, rita, "approve")
    decide(any_steward, task.id, rita, "reject")
    records = history_count(any_steward)
    with pytest.raises(Conflict, match=f"task {task.id} is rejected; it takes no more decisions"):
        decide(any_steward, task.id, person(any_steward, "risk-manager", "raj"), "approve")
    with pytest.raises(Conflict, match="takes no more decisions"):
        decide(any_steward, task.id, rita, "comment", "too late")
    assert history_count(any_steward) == records
    assert len(get_task(any_steward, task.id).decisions) == 1


def test_comments_go_with_the_task_and_to_the_audit_trail(any_steward: Steward) -> None:
    task = released_task(any_steward)
    otto = person(any_steward, "operator", "otto")
    decide(any_steward, task.id, otto, "comment", "deploy window is Tuesday")
    decide(any_steward, task.id, otto, "comment", "or Thursday")
    rita = person(any_steward, "risk-manager", "rita")
    decide(any_steward, task.id, rita, "approve", "validated against the 2026 sample")
    shown = get_task(any_steward, task.id)
    assert [(d.actor, d.decision) for d in shown.decisions] == [
        ("otto", "comment"),
        ("otto", "comment"),
        ("rita", "approve"),
    ]
    with any_steward.db.read() as session:
        records = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.after).where(
                AuditEvent.object_type == "task", AuditEvent.object_id == str(task.id)
            )
        ).all()
    assert [(r.actor, r.action) for r in records] == [
        ("system", "task.opened"),
        ("otto", "task.commented"),
        ("otto", "task.commented"),
        ("rita", "task.voted"),  # one of two: the task is still open
    ]
    assert records[-1].after["comment"] == "validated against the 2026 sample"


def test_a_partial_approval_is_a_vote_and_the_last_one_approves_the_task(
    any_steward: Steward,
) -> None:
    task = released_task(any_steward)
    decide(any_steward, task.id, person(any_steward, "risk-manager", "rita"), "approve", "ok")
    [vote] = recorded(any_steward, "task.voted")
    assert (vote.actor, vote.object_id) == ("rita", str(task.id))
    assert vote.payload == {
        "decision": "approve",
        "comment": "ok",
        "transition": "release",
        "status": "open",
        "voter": "rita",
        "votes": 1,
        "needed": 2,
    }
    assert recorded(any_steward, "task.approved") == []
    decide(any_steward, task.id, person(any_steward, "risk-manager", "raj"), "approve")
    [approved] = recorded(any_steward, "task.approved")
    assert (approved.actor, approved.payload["status"]) == ("raj", "approved")
    assert len(recorded(any_steward, "task.voted")) == 1


def test_the_inbox_holds_the_tasks_of_the_callers_role(any_steward: Steward) -> None:
    task = released_task(any_steward)
    rita = person(any_steward, "risk-manager", "rita")
    assert [t.id for t in list_tasks(any_steward, rita)] == [task.id]
    assert list_tasks(any_steward, person(any_steward, "operator", "otto")) == []
    assert [t.id for t in list_tasks(any_steward, Principal("admin", "admin"))] == [task.id]
    decide(any_steward, task.id, rita, "reject")
    assert list_tasks(any_steward, rita) == []
    assert [t.status for t in list_tasks(any_steward, rita, status="rejected")] == ["rejected"]
