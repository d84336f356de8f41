"""Handing production over: the holder leaves when a successor enters a ``supersedes`` state.

At most one version of a model is in a production state. A promotion (the
champion-challenger ``promoted`` state, say) would otherwise meet a 409 while the old
champion holds the place. A production state that names ``supersedes: retire`` moves
the holder out in the same transaction: the holder takes its own life cycle's
``retire`` transition (its gates are not run again: the successor's gates and approvals
decided), the history of both versions says who replaced whom, and the holder's
``on_enter`` actions (archive, say) run after the successor's, so the new version is
serving before the old one is archived. A holder whose life cycle has no such
transition from its state stops the promotion with a 409 that says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict
from modelsteward.governance.identity import Principal
from modelsteward.lifecycle.effects import (
    PendingAction,
    add_history,
    enter_state,
    keep_production,
    leave_state,
)
from modelsteward.lifecycle.snapshot import Snapshot, load_snapshot, lock_instance
from modelsteward.lifecycle.tables import LifecycleProduction

_PRODUCTION = cast(Table, LifecycleProduction.__table__)


def production_holder(session: Session, model_id: int) -> int | None:
    """The instance holding the model's production place, if any."""
    return session.execute(
        select(_PRODUCTION.c.instance_id).where(_PRODUCTION.c.model_id == model_id)
    ).scalar()


def supersede(
    change: Change,
    steward: Steward,
    successor: Snapshot,
    transition_name: str,
    actor: Principal,
    now: datetime,
) -> tuple[Snapshot, list[PendingAction]] | None:
    """Move the current holder out through its ``transition_name``; None when no holder."""
    session = change.session
    holder_id = production_holder(session, successor.model_id)
    if holder_id is None or holder_id == successor.id:
        return None
    holder = load_snapshot(session, holder_id)
    lock_instance(session, holder)
    leaving = {t.name: t for t in holder.spec.transitions_from(holder.state)}
    step = leaving.get(transition_name)
    if step is None:
        raise Conflict(
            f"v{holder.version} of {holder.model!r} holds production in state {holder.state!r} "
            f"of {holder.definition!r}, which has no {transition_name!r} transition from there; "
            f"move it out of production first"
        )
    target = holder.spec.state(step.to)
    if target.production:
        raise Conflict(
            f"{transition_name!r} keeps v{holder.version} in production ({target.name!r}); "
            "a superseding transition must leave production"
        )
    from modelsteward.lifecycle.transitions import move_instance

    move_instance(session, holder, state=target.name, finished=target.terminal)
    leave_state(session, holder, now)
    keep_production(session, holder, target.name, now)
    reason = f"superseded by v{successor.version} ({successor.state} -> production)"
    add_history(
        session,
        holder,
        outcome="applied",
        actor=actor.name,
        at=now,
        from_state=holder.state,
        to_state=target.name,
        transition=step.name,
        reason=reason,
    )
    moved = replace(
        holder,
        state=target.name,
        revision=holder.revision + 1,
        visit=holder.visit + 1,
        status="finished" if target.terminal else "running",
    )
    change.record(
        "lifecycle.transitioned",
        "lifecycle",
        holder.subject,
        before={"state": holder.state, "revision": holder.revision},
        after={
            "state": target.name,
            "revision": moved.revision,
            "transition": step.name,
            "reason": reason,
        },
        payload={
            "model": holder.model,
            "version": holder.version,
            "instance": holder.id,
            "from": holder.state,
            "to": target.name,
            "transition": step.name,
            "production": False,
            "superseded_by": successor.version,
        },
    )
    pending: list[PendingAction] = []
    enter_state(change, steward, moved, actor, now, pending)
    return moved, pending
