"""Reading instances and tasks into views: where a version stands, what it waits for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput, NotFound
from modelsteward.identity.roles import Role
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.instances import settle, start_instance
from modelsteward.lifecycle.snapshot import Snapshot, load_snapshot, locate_instance
from modelsteward.lifecycle.spec import ApprovalGate, CheckGate
from modelsteward.lifecycle.tables import (
    LifecycleDecision,
    LifecycleHistory,
    LifecycleInstance,
    LifecycleTask,
)
from modelsteward.lifecycle.views import (
    AvailableTransition,
    DecisionView,
    HistoryEntry,
    InstanceView,
    TaskView,
)
from modelsteward.store.tables import Model, ModelVersion, as_utc

TASK_STATUSES = ("open", "approved", "rejected", "cancelled")
MAX_TASKS = 500


def describe_gate(gate: CheckGate | ApprovalGate) -> str:
    if isinstance(gate, CheckGate):
        return f"check {gate.check}"
    return f"approval by {gate.count} {gate.role}"


def _tasks_query() -> Select[LifecycleTask, str, int]:
    return (
        select(LifecycleTask, Model.name, ModelVersion.version)
        .join(LifecycleInstance, LifecycleInstance.id == LifecycleTask.instance_id)
        .join(ModelVersion, ModelVersion.id == LifecycleInstance.version_id)
        .join(Model, Model.id == LifecycleInstance.model_id)
    )


def task_views(session: Session, rows: Sequence[Any]) -> list[TaskView]:
    """Views of ``(task, model name, version number)`` rows, with their decisions."""
    ids = [row[0].id for row in rows]
    decisions: dict[int, list[DecisionView]] = defaultdict(list)
    if ids:
        for d in session.scalars(
            select(LifecycleDecision)
            .where(LifecycleDecision.task_id.in_(ids))
            .order_by(LifecycleDecision.id)
        ):
            decisions[d.task_id].append(
                DecisionView(actor=d.actor, decision=d.decision, comment=d.comment, at=as_utc(d.at))
            )
    views = []
    for task, model, version in rows:
        made = decisions[task.id]
        views.append(
            TaskView(
                id=task.id,
                model=model,
                version=version,
                instance_id=task.instance_id,
                transition=task.transition,
                role=task.role,
                deciding_role=task.deciding_role,
                needed=task.needed,
                approvals=sum(1 for d in made if d.decision == "approve"),
                separation_of_duties=task.separation_of_duties,
                status=task.status,
                escalated_to=task.escalated_to,
                escalate_at=as_utc(task.escalate_at) if task.escalate_at else None,
                created_at=as_utc(task.created_at),
                decided_at=as_utc(task.decided_at) if task.decided_at else None,
                decisions=made,
            )
        )
    return views


def get_task(steward: Steward, task_id: int) -> TaskView:
    with steward.db.read() as session:
        rows = session.execute(_tasks_query().where(LifecycleTask.id == task_id)).all()
        if not rows:
            raise NotFound(f"task {task_id} not found")
        return task_views(session, rows)[0]


def list_tasks(
    steward: Steward, who: Principal, *, status: str | None = "open", limit: int = 100
) -> list[TaskView]:
    """The caller's inbox: tasks their role decides (an admin sees every task)."""
    query = _tasks_query()
    if status is not None:
        if status not in TASK_STATUSES:
            raise InvalidInput(
                f"unknown task status {status[:20]!r}; use {', '.join(TASK_STATUSES)}"
            )
        query = query.where(LifecycleTask.status == status)
    if who.role != Role.ADMIN.value:
        deciding = func.coalesce(LifecycleTask.escalated_to, LifecycleTask.role)
        query = query.where(deciding == who.role)
    with steward.db.read() as session:
        rows = session.execute(
            query.order_by(LifecycleTask.id.desc()).limit(max(1, min(limit, MAX_TASKS)))
        ).all()
        return task_views(session, rows)


def _history(session: Session, instance_id: int) -> list[HistoryEntry]:
    rows = session.scalars(
        select(LifecycleHistory)
        .where(LifecycleHistory.instance_id == instance_id)
        .order_by(LifecycleHistory.id)
    )
    return [
        HistoryEntry(
            id=h.id,
            from_state=h.from_state,
            to_state=h.to_state,
            transition=h.transition,
            outcome=h.outcome,
            actor=h.actor,
            at=as_utc(h.at),
            reason=h.reason,
            gates=h.gates,
        )
        for h in rows
    ]


def _available(snap: Snapshot, open_tasks: list[TaskView]) -> list[AvailableTransition]:
    if snap.status != "running":
        return []
    waiting = {t.transition for t in open_tasks}
    return [
        AvailableTransition(
            name=t.name,
            to=t.to,
            trigger=t.trigger,
            gates=[describe_gate(g) for g in t.gates],
            waiting=t.name in waiting,
        )
        for t in snap.spec.transitions_from(snap.state)
    ]


def instance_view(steward: Steward, instance_id: int) -> InstanceView:
    with steward.db.read() as session:
        snap = load_snapshot(session, instance_id)
        rows = session.execute(
            _tasks_query()
            .where(LifecycleTask.instance_id == instance_id, LifecycleTask.status == "open")
            .order_by(LifecycleTask.id)
        ).all()
        tasks = task_views(session, rows)
        times = session.execute(
            select(LifecycleInstance.started_at, LifecycleInstance.updated_at).where(
                LifecycleInstance.id == instance_id
            )
        ).one()
        return InstanceView(
            id=snap.id,
            model=snap.model,
            version=snap.version,
            definition=snap.definition,
            definition_version=snap.definition_version,
            state=snap.state,
            production=snap.in_production,
            status=snap.status,
            revision=snap.revision,
            started_at=as_utc(times[0]),
            updated_at=as_utc(times[1]),
            history=_history(session, instance_id),
            available_transitions=_available(snap, tasks),
            open_tasks=tasks,
        )


def instance_of(steward: Steward, model_name: str, version: int) -> int:
    """The instance of a version, started now if it has none yet; 404 naming what is missing.

    Registration does not wait for the instance, so the first read may be the one that
    starts it; a start another thread has under way is waited for, not seen half done.
    """
    settle(steward, model_name, version)
    with steward.db.read() as session:
        found = locate_instance(session, model_name, version)
    if found is None:
        found = start_instance(steward, model_name, version, SYSTEM)
    else:  # a start that began after the first wait inserts before it advances: wait again
        settle(steward, model_name, version)
    if found is None:
        raise NotFound(f"{model_name} version {version} follows no life cycle")
    return found


def version_lifecycle(steward: Steward, model_name: str, version: int) -> InstanceView:
    """The life cycle of ``model_name`` version ``version``, with history and open tasks."""
    return instance_view(steward, instance_of(steward, model_name, version))
