"""What entering and leaving a state does to the database, and what follows the commit.

Leaving cancels the state's open tasks and pending timers; entering schedules the new
state's timers, runs its ``in_transaction`` actions and queues its ``after_commit``
ones (``run_pending`` runs them once the transition is on record); the production row
follows the state, so a second version of a model entering a production state fails
on the primary key (409) on every backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict, StewardError
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.actions.registry import Action, ActionContext, get_action
from modelsteward.lifecycle.snapshot import Snapshot
from modelsteward.lifecycle.spec import ApprovalGate, TransitionSpec
from modelsteward.lifecycle.tables import (
    LifecycleHistory,
    LifecycleInstance,
    LifecycleProduction,
    LifecycleTask,
    LifecycleTimer,
)
from modelsteward.lifecycle.views import GateResult
from modelsteward.store.tables import ModelVersion, utcnow

log = logging.getLogger(__name__)

_HISTORY = cast(Table, LifecycleHistory.__table__)
_TIMERS = cast(Table, LifecycleTimer.__table__)
_TASKS = cast(Table, LifecycleTask.__table__)
_PRODUCTION = cast(Table, LifecycleProduction.__table__)
_INSTANCES = cast(Table, LifecycleInstance.__table__)
# Built once and executed with a dict of values: compiled once per process, not per call.
_ADD_HISTORY = insert(_HISTORY)
_ADD_TIMER = insert(_TIMERS)
_ADD_PRODUCTION = insert(_PRODUCTION)


@dataclass(frozen=True)
class PendingAction:
    """An ``after_commit`` action to run once the transition is on record."""

    name: str
    action: Action
    context: ActionContext
    state: str


def add_history(
    conn: Connection,
    snap: Snapshot,
    *,
    outcome: str,
    actor: str,
    at: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    transition: str | None = None,
    reason: str = "",
    gates: Sequence[GateResult] = (),
) -> None:
    conn.execute(
        _ADD_HISTORY,
        {
            "instance_id": snap.id,
            "from_state": from_state,
            "to_state": to_state,
            "transition": transition,
            "outcome": outcome,
            "actor": actor,
            "at": at,
            "reason": reason[:4000],
            "gates": [g.model_dump(mode="json") for g in gates],
        },
    )


def leave_state(session: Session, snap: Snapshot, now: datetime) -> None:
    """Cancel what belonged to this stay in the state: open tasks, pending timers."""
    session.execute(
        update(_TASKS)
        .where(_TASKS.c.instance_id == snap.id, _TASKS.c.status == "open")
        .values(status="cancelled", decided_at=now)
    )
    session.execute(
        update(_TIMERS)
        .where(_TIMERS.c.instance_id == snap.id, _TIMERS.c.fired_at.is_(None))
        .values(fired_at=now, outcome="cancelled")
    )


def keep_production(conn: Connection, before: Snapshot, new_state: str, now: datetime) -> None:
    """Insert or delete the model's production row as the instance enters or leaves one."""
    was = before.in_production
    will = new_state in before.spec.production_states
    if was and not will:
        conn.execute(
            delete(_PRODUCTION).where(
                _PRODUCTION.c.model_id == before.model_id, _PRODUCTION.c.instance_id == before.id
            )
        )
    elif will and not was:
        holder = conn.execute(
            select(ModelVersion.version)
            .join(_INSTANCES, _INSTANCES.c.version_id == ModelVersion.id)
            .join(_PRODUCTION, _PRODUCTION.c.instance_id == _INSTANCES.c.id)
            .where(_PRODUCTION.c.model_id == before.model_id)
        ).scalar()
        if holder is not None:
            raise _in_production(before, holder)
        try:
            conn.execute(
                _ADD_PRODUCTION,
                {"model_id": before.model_id, "instance_id": before.id, "since": now},
            )
        except IntegrityError:
            raise _in_production(before, None) from None


def _in_production(snap: Snapshot, holder: int | None) -> Conflict:
    which = f"version {holder}" if holder is not None else "another version"
    return Conflict(
        f"model {snap.model!r} already has {which} in a production state; at most one "
        f"version of a model is in production: move it out first"
    )


def enter_state(
    change: Change,
    steward: Steward,
    snap: Snapshot,
    actor: Principal,
    now: datetime,
    pending: list[PendingAction],
) -> None:
    """Schedule the state's timers and run (or queue) its ``on_enter`` actions."""
    state = snap.state_spec
    for timer in state.timers:
        change.connection.execute(
            _ADD_TIMER,
            {
                "instance_id": snap.id,
                "visit": snap.visit,
                "kind": "transition",
                "target": timer.transition,
                "due_at": now + timer.after,
                "outcome": "",
            },
        )
    for entry in state.on_enter:
        action = get_action(entry.action)
        context = ActionContext(
            steward=steward,
            actor=actor,
            model=snap.model,
            version=snap.version,
            instance_id=snap.id,
            params=entry.params,
        )
        if action.runs == "after_commit":
            pending.append(PendingAction(entry.action, action, context, state.name))
            continue
        result = action.execute(replace(context, change=change))
        add_history(
            change.connection,
            snap,
            outcome="action",
            actor=actor.name,
            at=now,
            to_state=state.name,
            reason=f"{entry.action}: {result.summary}",
        )


def open_tasks(
    change: Change,
    snap: Snapshot,
    transition: TransitionSpec,
    missing: Sequence[tuple[int, ApprovalGate]],
    now: datetime,
) -> list[int]:
    """One approval task per gate still lacking one, with its escalation timer."""
    opened = []
    for index, gate in missing:
        escalate_at = now + gate.escalate_after if gate.escalate_after is not None else None
        task = LifecycleTask(
            instance_id=snap.id,
            visit=snap.visit,
            transition=transition.name,
            gate_index=index,
            role=gate.role,
            needed=gate.count,
            separation_of_duties=gate.separation_of_duties,
            status="open",
            escalate_at=escalate_at,
            created_at=now,
        )
        change.session.add(task)
        change.session.flush()
        if escalate_at is not None and gate.escalate_to is not None:
            change.session.connection().execute(
                _ADD_TIMER,
                {
                    "instance_id": snap.id,
                    "visit": snap.visit,
                    "kind": "escalation",
                    "target": gate.escalate_to,
                    "task_id": task.id,
                    "due_at": escalate_at,
                    "outcome": "",
                },
            )
        after: dict[str, Any] = {
            "model": snap.model,
            "version": snap.version,
            "transition": transition.name,
            "role": gate.role,
            "needed": gate.count,
        }
        change.record("task.opened", "task", task.id, after=after)
        opened.append(task.id)
    return opened


def run_pending(steward: Steward, snap: Snapshot, pending: list[PendingAction]) -> None:
    """Run ``after_commit`` actions and put what each did (or why it failed) on record."""
    if not pending:
        return
    done: list[tuple[str, str]] = []
    for item in pending:
        try:
            result = item.action.execute(item.context)
            done.append(("action", f"{item.name}: {result.summary}"))
        except StewardError as exc:
            done.append(("action_failed", f"{item.name}: {exc.message}"))
        except Exception as exc:  # an action's failure is recorded; the transition stands
            log.exception("action %s failed for %s", item.name, snap.subject)
            done.append(("action_failed", f"{item.name}: {type(exc).__name__}: {exc}"[:500]))
    with steward.change(SYSTEM.name) as change:
        now = utcnow()
        for outcome, summary in done:
            add_history(
                change.connection,
                snap,
                outcome=outcome,
                actor=SYSTEM.name,
                at=now,
                to_state=pending[0].state,
                reason=summary,
            )
        change.record(
            "lifecycle.actions_ran",
            "lifecycle",
            snap.subject,
            after={"state": pending[0].state, "results": [s for _, s in done]},
        )


def record_failure(steward: Steward, snap: Snapshot, transition: str, message: str) -> None:
    """Put an engine-driven attempt that failed (e.g. production is taken) on record."""
    with steward.change(SYSTEM.name) as change:
        add_history(
            change.connection,
            snap,
            outcome="failed",
            actor=SYSTEM.name,
            at=utcnow(),
            from_state=snap.state,
            transition=transition,
            reason=message,
        )
        change.record(
            "lifecycle.failed",
            "lifecycle",
            snap.subject,
            after={"transition": transition, "reason": message},
        )
