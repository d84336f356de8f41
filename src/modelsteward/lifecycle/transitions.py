"""Taking a transition: gates at run time, compare-and-set, then the new state's effects.

An attempt reads a snapshot, runs the check gates outside any transaction, then in
one write transaction locks the instance and checks its revision. A failed check
records a ``blocked`` entry; missing approvals open tasks and leave the instance
``waiting``; otherwise ``UPDATE ... WHERE revision = ?`` moves it, the history and
audit record it, the old state's tasks and timers are cancelled, the production row
follows, and the new state's timers and actions start. ``auto`` transitions that now
pass are then taken, each as its own attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import CursorResult, Table, update
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict, InvalidInput, StewardError
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.effects import (
    PendingAction,
    add_history,
    enter_state,
    keep_production,
    leave_state,
    open_tasks,
    record_failure,
    run_pending,
)
from modelsteward.lifecycle.gates import approval_progress, run_checks
from modelsteward.lifecycle.reading import instance_view
from modelsteward.lifecycle.snapshot import Snapshot, StaleInstance, load_snapshot, lock_instance
from modelsteward.lifecycle.spec import TransitionSpec
from modelsteward.lifecycle.supersede import supersede
from modelsteward.lifecycle.tables import LifecycleInstance
from modelsteward.lifecycle.views import GateResult, Outcome, TransitionOutcome
from modelsteward.store.tables import utcnow

log = logging.getLogger(__name__)
_INSTANCES = cast(Table, LifecycleInstance.__table__)
MAX_AUTO_STEPS = 32

Claim = Callable[[Session], bool]
"""Runs first in the attempt's transaction; False means someone else took the work."""


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    transition: str
    gates: list[GateResult]


def read_snapshot(steward: Steward, instance_id: int) -> Snapshot:
    with steward.db.read() as session:
        return load_snapshot(session, instance_id)


def allowed(snap: Snapshot, name: str) -> TransitionSpec:
    """The transition ``name`` if it may leave the current state; a clear error if not."""
    leaving = [t.name for t in snap.spec.transitions_from(snap.state)]
    options = ", ".join(leaving) or "none"
    if snap.status != "running":
        raise Conflict(f"{snap.subject} has finished its life cycle (state {snap.state!r})")
    try:
        transition = snap.spec.transition(name)
    except KeyError:
        raise InvalidInput(
            f"life cycle {snap.definition!r} v{snap.definition_version} has no transition "
            f"{name[:64]!r}; from {snap.state!r} you may take: {options}"
        ) from None
    if snap.state not in transition.from_:
        raise Conflict(
            f"transition {name!r} is not allowed from state {snap.state!r} (it leaves "
            f"{', '.join(transition.from_)}); from {snap.state!r} you may take: {options}"
        )
    return transition


def _move(session: Session, snap: Snapshot, *, state: str, finished: bool, visit: int) -> None:
    """Compare-and-set: the instance moves only if nobody moved it since ``snap``."""
    moved = cast(
        CursorResult[Any],
        session.execute(
            update(_INSTANCES)
            .where(_INSTANCES.c.id == snap.id, _INSTANCES.c.revision == snap.revision)
            .values(
                state=state,
                revision=snap.revision + 1,
                visit=visit,
                status="finished" if finished else "running",
                updated_at=utcnow(),
            )
        ),
    ).rowcount
    if moved != 1:
        raise StaleInstance("the instance changed since you read it; read it again and retry")


def attempt(
    steward: Steward,
    snap: Snapshot,
    transition: TransitionSpec,
    actor: Principal,
    *,
    reason: str = "",
    claim: Claim | None = None,
) -> Attempt | None:
    """One try at ``transition``; None when ``claim`` found the work already taken."""
    gates = run_checks(steward, snap, transition)
    pending: list[PendingAction] = []
    superseded: list[tuple[Snapshot, list[PendingAction]]] = []
    entered = snap
    with steward.change(actor.name) as change:
        session, now = change.session, utcnow()
        lock_instance(session, snap)
        if claim is not None and not claim(session):
            return None
        if not all(g.passed for g in gates):
            _note(change, snap, "blocked", transition, gates, reason)
            return Attempt("blocked", transition.name, gates)
        approvals, missing = approval_progress(session, snap, transition)
        gates = gates + approvals
        if missing:
            open_tasks(change, snap, transition, missing, now)
            _move(session, snap, state=snap.state, finished=False, visit=snap.visit)
            _note(change, snap, "waiting", transition, gates, reason)
            return Attempt("waiting", transition.name, gates)
        if not all(a.passed for a in approvals):
            return Attempt("waiting", transition.name, gates)
        entered = _apply(
            change, steward, snap, transition, actor, gates, reason, pending, superseded
        )
    run_pending(steward, entered, pending)
    for holder, holder_pending in superseded:  # after the successor's deploy: never a gap
        run_pending(steward, holder, holder_pending)
    return Attempt("applied", transition.name, gates)


def _apply(
    change: Change,
    steward: Steward,
    snap: Snapshot,
    transition: TransitionSpec,
    actor: Principal,
    gates: list[GateResult],
    reason: str,
    pending: list[PendingAction],
    superseded: list[tuple[Snapshot, list[PendingAction]]],
) -> Snapshot:
    target = snap.spec.state(transition.to)
    if target.supersedes is not None and not snap.in_production:
        # The holder leaves production first, in this transaction, then this one enters.
        handed = supersede(change, steward, snap, target.supersedes, actor)
        if handed is not None:
            superseded.append(handed)
    return move_into(change, steward, snap, transition.name, actor, reason, gates, pending)


def move_into(
    change: Change,
    steward: Steward,
    snap: Snapshot,
    transition: str,
    actor: Principal,
    reason: str,
    gates: list[GateResult],
    pending: list[PendingAction],
    payload: dict[str, Any] | None = None,
) -> Snapshot:
    """Take ``transition`` (its gates decided): compare-and-set, leave the old state,
    follow production, record history and audit, and enter the new state."""
    session, now = change.session, utcnow()
    target = snap.spec.state(snap.spec.transition(transition).to)
    _move(session, snap, state=target.name, finished=target.terminal, visit=snap.visit + 1)
    leave_state(session, snap, now)
    keep_production(change.connection, snap, target.name, now)
    add_history(
        change.connection,
        snap,
        outcome="applied",
        actor=actor.name,
        at=now,
        from_state=snap.state,
        to_state=target.name,
        transition=transition,
        reason=reason,
        gates=gates,
    )
    entered = replace(
        snap,
        state=target.name,
        revision=snap.revision + 1,
        visit=snap.visit + 1,
        status="finished" if target.terminal else "running",
    )
    change.record(
        "lifecycle.transitioned",
        "lifecycle",
        snap.subject,
        before={"state": snap.state, "revision": snap.revision},
        after={
            "state": target.name,
            "revision": entered.revision,
            "transition": transition,
            "reason": reason,
            "gates": [g.model_dump(mode="json") for g in gates],
        },
        payload={
            "model": snap.model,
            "version": snap.version,
            "instance": snap.id,
            "from": snap.state,
            "to": target.name,
            "transition": transition,
            "production": entered.in_production,
            **(payload or {}),
        },
    )
    enter_state(change, steward, entered, actor, now, pending)
    return entered


def _note(
    change: Change,
    snap: Snapshot,
    outcome: Outcome,
    transition: TransitionSpec,
    gates: list[GateResult],
    reason: str,
) -> None:
    """Put a transition that did not happen (blocked, or now waiting) on record."""
    add_history(
        change.connection,
        snap,
        outcome=outcome,
        actor=change.actor,
        at=utcnow(),
        from_state=snap.state,
        transition=transition.name,
        reason=reason,
        gates=gates,
    )
    change.record(
        f"lifecycle.{outcome}",
        "lifecycle",
        snap.subject,
        after={
            "state": snap.state,
            "transition": transition.name,
            "reason": reason,
            "gates": [g.model_dump(mode="json") for g in gates],
        },
    )


def advance(steward: Steward, instance_id: int) -> None:
    """Take ``auto`` transitions from the current state while their gates pass."""
    for _ in range(MAX_AUTO_STEPS):
        snap = read_snapshot(steward, instance_id)
        if snap.status != "running":
            return
        autos = [t for t in snap.spec.transitions_from(snap.state) if t.trigger == "auto"]
        for transition in autos:
            try:
                result = attempt(steward, snap, transition, SYSTEM, reason="auto")
            except StaleInstance:
                return
            except StewardError as exc:
                record_failure(steward, snap, transition.name, exc.message)
                continue
            if result is not None and result.outcome == "applied":
                break
            if result is not None and result.outcome == "waiting":
                return
        else:
            return
    log.warning(
        "instance %s took %s auto transitions in a row; stopped", instance_id, MAX_AUTO_STEPS
    )


def transition(
    steward: Steward,
    instance_id: int,
    transition_name: str,
    actor: Principal,
    expected_revision: int,
    *,
    reason: str = "",
) -> TransitionOutcome:
    """Ask for ``transition_name`` on behalf of ``actor``; 409 when the revision is stale."""
    snap = read_snapshot(steward, instance_id)
    if snap.revision != expected_revision:
        raise StaleInstance(
            f"the instance changed since you read it (you read revision {expected_revision}, "
            f"it is now {snap.revision}); read it again and retry"
        )
    spec = allowed(snap, transition_name)
    result = attempt(steward, snap, spec, actor, reason=reason)
    assert result is not None  # no claim: an attempt always has a result
    if result.outcome == "applied":
        advance(steward, instance_id)
    return TransitionOutcome(
        outcome=result.outcome,
        transition=result.transition,
        gates=result.gates,
        instance=instance_view(steward, instance_id),
    )
