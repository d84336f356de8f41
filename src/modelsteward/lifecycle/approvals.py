"""Deciding approval tasks: role, separation of duties, one vote each, then the transition.

A decision locks the instance, then the task, so two approvers deciding at once are
counted one after the other and exactly one of them completes the task. The role must
be the task's (an admin may stand in for any role) and, with separation of duties,
neither the version's submitter nor the model's owner (a user, see
``registry.ownership``) may decide: not even an admin. A gate's ``distinct_from`` also
keeps out whoever approved the transitions it names (the validator, in ``regulated``).
An approval that leaves the task open is a vote (``task.voted``); ``task.approved`` is
recorded once, when the task is decided.
Once a task has its approvals the transition is attempted again; the gates (checks
included) are evaluated afresh, and the compare-and-set keeps it to one move.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, Forbidden, InvalidInput, NotFound, StewardError
from modelsteward.identity.roles import Role
from modelsteward.identity.users import Principal
from modelsteward.lifecycle.effects import add_history, record_failure
from modelsteward.lifecycle.gates import approvals_of
from modelsteward.lifecycle.reading import get_task, instance_view
from modelsteward.lifecycle.snapshot import StaleInstance, load_snapshot
from modelsteward.lifecycle.spec import ApprovalGate
from modelsteward.lifecycle.tables import (
    VOTES,
    LifecycleDecision,
    LifecycleInstance,
    LifecycleTask,
    LifecycleTimer,
)
from modelsteward.lifecycle.transitions import (
    advance,
    allowed,
    attempt,
    read_snapshot,
)
from modelsteward.lifecycle.views import DecisionOutcome, TransitionOutcome
from modelsteward.store.tables import Model, ModelVersion, utcnow

Decision = Literal["approve", "reject", "comment"]
DECISIONS: tuple[str, ...] = ("approve", "reject", "comment")
_DECIDED = {"approve": "task.approved", "reject": "task.rejected", "comment": "task.commented"}
"""The event each decision records (a rejection was once recorded as ``task.rejectd``)."""


def _lock(session: Session, task_id: int) -> LifecycleTask:
    """Lock the task's instance, then the task (the engine's lock order everywhere)."""
    instance_id = session.scalar(
        select(LifecycleTask.instance_id).where(LifecycleTask.id == task_id)
    )
    if instance_id is None:
        raise NotFound(f"task {task_id} not found")
    session.execute(
        select(LifecycleInstance.id).where(LifecycleInstance.id == instance_id).with_for_update()
    )
    task = session.scalar(
        select(LifecycleTask)
        .where(LifecycleTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def _check_decider(session: Session, task: LifecycleTask, actor: Principal) -> None:
    role = task.deciding_role
    if actor.role != role and actor.role != Role.ADMIN.value:
        raise Forbidden(f"task {task.id} is for role {role!r}; {actor.name} is {actor.role!r}")
    if task.separation_of_duties:
        submitter, owner, model, version = session.execute(
            select(ModelVersion.created_by, Model.owner, Model.name, ModelVersion.version)
            .join(LifecycleInstance, LifecycleInstance.version_id == ModelVersion.id)
            .join(Model, Model.id == ModelVersion.model_id)
            .where(LifecycleInstance.id == task.instance_id)
        ).one()
        if actor.name == submitter:
            raise Forbidden(
                f"separation of duties: {actor.name} submitted {model} version {version} "
                "and may not decide on it"
            )
        if actor.name == owner:
            raise Forbidden(
                f"separation of duties: {actor.name} owns model {model} and may not decide "
                "on its versions"
            )
    _check_distinct(session, task, actor)
    voted = session.scalar(
        select(LifecycleDecision.decision).where(
            LifecycleDecision.task_id == task.id,
            LifecycleDecision.actor == actor.name,
            LifecycleDecision.decision.in_(VOTES),
        )
    )
    if voted is not None:
        raise Conflict(f"{actor.name} already decided task {task.id} ({voted}); one vote each")


def _check_distinct(session: Session, task: LifecycleTask, actor: Principal) -> None:
    """Refuse someone who approved a transition the gate's ``distinct_from`` names."""
    snap = load_snapshot(session, task.instance_id)
    gate = snap.spec.transition(task.transition).gates[task.gate_index]
    if not isinstance(gate, ApprovalGate) or not gate.distinct_from:
        return
    earlier = session.execute(
        select(LifecycleTask.id, LifecycleTask.transition)
        .join(LifecycleDecision, LifecycleDecision.task_id == LifecycleTask.id)
        .where(
            LifecycleTask.instance_id == task.instance_id,
            LifecycleTask.id != task.id,
            LifecycleTask.transition.in_(snap.spec.deciding_transitions(gate.distinct_from)),
            LifecycleDecision.actor == actor.name,
            LifecycleDecision.decision == "approve",
        )
        .order_by(LifecycleTask.id)
    ).first()
    if earlier is not None:
        raise Forbidden(
            f"separation of duties: {actor.name} approved {earlier.transition} (task "
            f"{earlier.id}) of {snap.model} version {snap.version} and may not also approve "
            f"{task.transition}, which must be decided by others (distinct_from: "
            f"{', '.join(gate.distinct_from)})"
        )


def _close(session: Session, task: LifecycleTask, status: str) -> None:
    now = utcnow()
    task.status, task.decided_at = status, now
    session.execute(
        update(LifecycleTimer)
        .where(LifecycleTimer.task_id == task.id, LifecycleTimer.fired_at.is_(None))
        .values(fired_at=now, outcome="cancelled")
    )


def decide(
    steward: Steward, task_id: int, actor: Principal, decision: str, comment: str = ""
) -> DecisionOutcome:
    """Record ``actor``'s approve, reject or comment; complete the transition when due."""
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision[:20]!r}; use approve, reject or comment")
    if len(comment) > 4000:
        raise InvalidInput("a comment is at most 4000 characters")
    completed = False
    try:
        with steward.change(actor.name) as change:
            session = change.session
            task = _lock(session, task_id)
            if task.status != "open":
                raise Conflict(f"task {task_id} is {task.status}; it takes no more decisions")
            if decision != "comment":
                _check_decider(session, task, actor)
            session.add(
                LifecycleDecision(
                    task_id=task.id, actor=actor.name, decision=decision, comment=comment
                )
            )
            session.flush()
            votes = approvals_of(session, task.id) if decision == "approve" else 0
            if decision == "approve" and votes >= task.needed:
                _close(session, task, "approved")
                completed = True
            elif decision == "reject":
                _reject(session, task, actor, comment)
            after: dict[str, object] = {
                "decision": decision,
                "comment": comment,
                "transition": task.transition,
                "status": task.status,
            }
            if decision == "approve" and not completed:  # a vote; the task is still open
                after |= {"voter": actor.name, "votes": votes, "needed": task.needed}
                change.record("task.voted", "task", task.id, after=after)
            else:
                change.record(_DECIDED[decision], "task", task.id, after=after)
            instance_id = task.instance_id
    except IntegrityError:
        raise Conflict(f"{actor.name} already decided task {task_id}; one vote each") from None
    outcome = _complete(steward, instance_id, task_id, actor) if completed else None
    return DecisionOutcome(task=get_task(steward, task_id), completed=outcome)


def _reject(session: Session, task: LifecycleTask, actor: Principal, comment: str) -> None:
    """The task, and its sibling tasks for the same transition, close; the instance stays."""
    _close(session, task, "rejected")
    siblings = session.scalars(
        select(LifecycleTask).where(
            LifecycleTask.instance_id == task.instance_id,
            LifecycleTask.visit == task.visit,
            LifecycleTask.transition == task.transition,
            LifecycleTask.status == "open",
        )
    ).all()
    for sibling in siblings:
        _close(session, sibling, "cancelled")
    snap = load_snapshot(session, task.instance_id)
    add_history(
        session.connection(),
        snap,
        outcome="rejected",
        actor=actor.name,
        at=utcnow(),
        from_state=snap.state,
        transition=task.transition,
        reason=comment or f"task {task.id} rejected",
    )


def _complete(
    steward: Steward, instance_id: int, task_id: int, actor: Principal
) -> TransitionOutcome | None:
    """Try the approved task's transition; None when the instance moved on meanwhile."""
    snap = read_snapshot(steward, instance_id)
    task = get_task(steward, task_id)
    try:
        transition = allowed(snap, task.transition)
        result = attempt(steward, snap, transition, actor, reason=f"approved (task {task_id})")
    except StaleInstance:
        return None
    except StewardError as exc:
        record_failure(steward, snap, task.transition, exc.message)
        return None
    if result is None:
        return None
    if result.outcome == "applied":
        advance(steward, instance_id)
    return TransitionOutcome(
        outcome=result.outcome,
        transition=result.transition,
        gates=result.gates,
        instance=instance_view(steward, instance_id),
    )
