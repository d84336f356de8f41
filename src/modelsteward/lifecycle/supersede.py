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

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict
from modelsteward.identity.users import Principal
from modelsteward.lifecycle.effects import PendingAction
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
    from modelsteward.lifecycle.transitions import move_into  # transitions imports this

    reason = f"superseded by v{successor.version} ({successor.state} -> production)"
    pending: list[PendingAction] = []
    moved = move_into(
        change,
        steward,
        holder,
        step.name,
        actor,
        reason,
        [],
        pending,
        {"superseded_by": successor.version},
    )
    return moved, pending
