"""Firing due timers: state timers take their transition, escalations widen a task's role.

Timers are rows, so they survive restarts: a new process finds overdue ones and fires
them. Every server process may call ``fire_due_timers`` at once; each timer is
claimed by ``UPDATE ... SET fired_at WHERE fired_at IS NULL`` in the same transaction
as its effect, so it fires exactly once, and a failed effect leaves it to retry.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import StewardError
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.effects import add_history, record_failure
from modelsteward.lifecycle.snapshot import StaleInstance, load_snapshot
from modelsteward.lifecycle.tables import LifecycleInstance, LifecycleTask, LifecycleTimer
from modelsteward.lifecycle.transitions import (
    advance,
    allowed,
    attempt,
    read_snapshot,
)
from modelsteward.store.tables import as_utc, utcnow

log = logging.getLogger(__name__)
BATCH = 100
PROCESS = f"{socket.gethostname()[:100]}:{os.getpid()}"


def _claim(session: Session, timer_id: int, now: datetime, outcome: str) -> bool:
    result = session.execute(
        update(LifecycleTimer)
        .where(LifecycleTimer.id == timer_id, LifecycleTimer.fired_at.is_(None))
        .values(fired_at=now, claimed_by=PROCESS, outcome=outcome)
    )
    claimed = cast(CursorResult[Any], result).rowcount
    return bool(claimed == 1)


def _retire(steward: Steward, timer_id: int, now: datetime, outcome: str) -> None:
    """Close a timer that can no longer take effect (its stay in the state is over)."""
    with steward.change(SYSTEM.name) as change:
        _claim(change.session, timer_id, now, outcome)


def _fire_transition(steward: Steward, timer: Any, now: datetime) -> bool:
    snap = read_snapshot(steward, timer.instance_id)
    if snap.visit != timer.visit or snap.status != "running":
        _retire(steward, timer.id, now, "stale")
        return False
    try:
        transition = allowed(snap, timer.target)
    except StewardError:
        _retire(steward, timer.id, now, "not_allowed")
        return False
    reason = f"timer: due {as_utc(timer.due_at).isoformat(timespec='seconds')} in {snap.state!r}"
    try:
        result = attempt(
            steward,
            snap,
            transition,
            SYSTEM,
            reason=reason,
            claim=lambda session: _claim(session, timer.id, now, "fired"),
        )
    except StaleInstance:
        return False  # the instance moved meanwhile: that cancelled the timer, or retry
    except StewardError as exc:
        _retire(steward, timer.id, now, "failed")
        record_failure(steward, snap, transition.name, f"timer: {exc.message}")
        return True
    if result is None:
        return False
    if result.outcome == "applied":
        advance(steward, timer.instance_id)
    return True


def _fire_escalation(steward: Steward, timer: Any, now: datetime) -> bool:
    with steward.change(SYSTEM.name) as change:
        session = change.session
        session.execute(
            select(LifecycleInstance.id)
            .where(LifecycleInstance.id == timer.instance_id)
            .with_for_update()
        )
        if not _claim(session, timer.id, now, "fired"):
            return False
        task = session.scalar(
            select(LifecycleTask).where(LifecycleTask.id == timer.task_id).with_for_update()
        )
        if task is None or task.status != "open":
            return False
        before = task.deciding_role
        task.escalated_to = timer.target
        snap = load_snapshot(session, timer.instance_id)
        add_history(
            session.connection(),
            snap,
            outcome="escalated",
            actor=SYSTEM.name,
            at=now,
            from_state=snap.state,
            transition=task.transition,
            reason=f"task {task.id} undecided: escalated from {before} to {timer.target}",
        )
        change.record(
            "task.escalated",
            "task",
            task.id,
            before={"role": before},
            after={"role": timer.target, "model": snap.model, "version": snap.version},
        )
    return True


def fire_due_timers(steward: Steward, now: datetime | None = None) -> int:
    """Fire every timer due by ``now``; returns how many this process fired.

    Safe to call from many processes and replicas at once (the scheduler does, in
    every server process): each timer fires in exactly one of them.
    """
    now = as_utc(now) if now is not None else utcnow()
    with steward.db.read() as session:
        due = session.execute(
            select(
                LifecycleTimer.id,
                LifecycleTimer.instance_id,
                LifecycleTimer.visit,
                LifecycleTimer.kind,
                LifecycleTimer.target,
                LifecycleTimer.task_id,
                LifecycleTimer.due_at,
            )
            .where(LifecycleTimer.fired_at.is_(None), LifecycleTimer.due_at <= now)
            .order_by(LifecycleTimer.due_at, LifecycleTimer.id)
            .limit(BATCH)
        ).all()
    fired = 0
    for timer in due:
        try:
            if timer.kind == "escalation":
                fired += _fire_escalation(steward, timer, now)
            else:
                fired += _fire_transition(steward, timer, now)
        except Exception:  # one broken timer must not stop the others
            log.exception("life cycle timer %s failed", timer.id)
    return fired
