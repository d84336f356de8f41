"""Timers are rows: they fire once across processes, survive restarts, and escalate tasks."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers import settings_for
from tests.lifecycle.workbench import GATED, define, engine, person, register, status

from modelsteward.context import Steward
from modelsteward.errors import Forbidden
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.reading import get_task
from modelsteward.lifecycle.tables import LifecycleTimer
from modelsteward.lifecycle.timers import fire_due_timers
from modelsteward.lifecycle.transitions import transition
from modelsteward.store.tables import AuditEvent, utcnow

FIRE = """
import sys
from datetime import datetime
from modelsteward.context import Steward
from modelsteward.lifecycle.timers import fire_due_timers
steward = Steward()
print(fire_due_timers(steward, datetime.fromisoformat(sys.argv[1])))
steward.close()
"""


def take(steward: Steward, name: str, who: Principal = SYSTEM) -> str:
    current = status(steward, "churn", 1)
    return transition(steward, current.id, name, who, current.revision).outcome


def live(steward: Steward) -> None:
    """churn v1 on ``gated``, released by two risk managers: in production, timer pending."""
    engine(steward)
    define(steward, GATED)
    register(steward)
    take(steward, "check")
    take(steward, "release")
    task = status(steward, "churn", 1).open_tasks[0].id
    decide(steward, task, person(steward, "risk-manager", "rita"), "approve")
    decide(steward, task, person(steward, "risk-manager", "raj"), "approve")
    assert status(steward, "churn", 1).state == "live"


def revalidations(steward: Steward) -> list[str]:
    history = status(steward, "churn", 1).history
    return [h.actor for h in history if h.transition == "revalidate" and h.outcome == "applied"]


def test_a_timer_not_yet_due_does_not_fire(any_steward: Steward) -> None:
    live(any_steward)
    assert fire_due_timers(any_steward, utcnow() + timedelta(days=89)) == 0
    assert status(any_steward, "churn", 1).state == "live"


def test_a_due_timer_fires_exactly_once_when_four_processes_race(
    any_steward: Steward, tmp_path: Path
) -> None:
    live(any_steward)
    env = {
        **os.environ,
        "STEWARD_HOME": str(any_steward.settings.home),
        "STEWARD_DB_URL": any_steward.settings.db_url,
    }
    due = (utcnow() + timedelta(days=91)).isoformat()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", FIRE, due],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in results]
    assert sorted(int(out.strip()) for out, _ in results) == [0, 0, 0, 1]
    assert status(any_steward, "churn", 1).state == "review"
    assert revalidations(any_steward) == ["system"]
    with any_steward.db.read() as session:
        fired = session.scalars(
            select(LifecycleTimer.outcome).where(LifecycleTimer.kind == "transition")
        ).all()
    assert fired == ["fired"]


def test_a_restart_resumes_where_the_instance_was_and_fires_overdue_timers(
    any_steward: Steward, tmp_path: Path
) -> None:
    live(any_steward)
    before = status(any_steward, "churn", 1)
    settings = any_steward.settings
    any_steward.close()

    restarted = engine(Steward(settings_for(settings.home, settings.db_url)))
    try:
        resumed = status(restarted, "churn", 1)
        assert (resumed.state, resumed.revision, len(resumed.history)) == (
            before.state,
            before.revision,
            len(before.history),
        )
        assert fire_due_timers(restarted, utcnow() + timedelta(days=120)) == 1
        assert fire_due_timers(restarted, utcnow() + timedelta(days=120)) == 0
        assert status(restarted, "churn", 1).state == "review"
        assert take(restarted, "restore") == "applied"
    finally:
        restarted.close()


def test_leaving_a_state_cancels_its_timers(any_steward: Steward) -> None:
    live(any_steward)
    assert take(any_steward, "retire") == "applied"
    assert fire_due_timers(any_steward, utcnow() + timedelta(days=365)) == 0
    assert revalidations(any_steward) == []
    with any_steward.db.read() as session:
        pending = select(LifecycleTimer.outcome).where(LifecycleTimer.kind == "transition")
        assert session.scalars(pending).all() == ["cancelled"]


def test_an_undecided_approval_escalates_after_its_delay(any_steward: Steward) -> None:
    engine(any_steward)
    define(any_steward, GATED)
    register(any_steward)
    take(any_steward, "check")
    take(any_steward, "release")
    task = status(any_steward, "churn", 1).open_tasks[0]
    assert task.escalate_at is not None
    assert fire_due_timers(any_steward, utcnow() + timedelta(days=2)) == 0
    assert fire_due_timers(any_steward, utcnow() + timedelta(days=4)) == 1
    escalated = get_task(any_steward, task.id)
    assert (escalated.role, escalated.escalated_to, escalated.deciding_role) == (
        "risk-manager",
        "admin",
        "admin",
    )
    assert status(any_steward, "churn", 1).history[-1].outcome == "escalated"
    with pytest.raises(Forbidden, match="is for role 'admin'"):
        decide(any_steward, task.id, person(any_steward, "risk-manager", "rita"), "approve")
    decide(any_steward, task.id, person(any_steward, "admin", "ada"), "approve")
    assert get_task(any_steward, task.id).approvals == 1
    with any_steward.db.read() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "task")
        ).all()
    assert "task.escalated" in actions


def test_an_approved_task_cancels_its_escalation(any_steward: Steward) -> None:
    live(any_steward)
    with any_steward.db.read() as session:
        escalation = session.scalars(
            select(LifecycleTimer.outcome).where(LifecycleTimer.kind == "escalation")
        ).all()
    assert escalation == ["cancelled"]
    assert fire_due_timers(any_steward, utcnow() + timedelta(days=4)) == 0
