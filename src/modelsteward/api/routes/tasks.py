"""/api/v1/tasks: the approver's inbox, and approve, reject or comment on a task.

The inbox lists the tasks the caller's role decides (an admin sees all). Deciding
needs ``tasks.decide``; the engine then checks the task's role and separation of
duties, and one vote per person.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from modelsteward.api.policy import allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.lifecycle import approvals, reading
from modelsteward.lifecycle.views import DecisionOutcome, DecisionRequest, TaskView

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Decider = Annotated[Principal, Depends(allow(Permission.TASKS_DECIDE))]
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=list[TaskView])
async def inbox(
    request: Request,
    who: Reader,
    status: Annotated[
        Literal["open", "approved", "rejected", "cancelled", "all"], Query()
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskView]:
    """Tasks for the caller's role, newest first (``status=all`` for every status)."""
    wanted = None if status == "all" else status
    return await run_in_threadpool(
        reading.list_tasks, steward_of(request), who, status=wanted, limit=limit
    )


@router.get("/{task_id}", response_model=TaskView)
async def get_task(task_id: TaskId, request: Request, who: Reader) -> TaskView:
    return await run_in_threadpool(reading.get_task, steward_of(request), task_id)


async def _decide(
    request: Request, who: Principal, task_id: int, decision: str, body: DecisionRequest
) -> DecisionOutcome:
    return await run_in_threadpool(
        approvals.decide, steward_of(request), task_id, who, decision, body.comment
    )


@router.post("/{task_id}/approve", response_model=DecisionOutcome)
async def approve(
    task_id: TaskId, request: Request, who: Decider, body: DecisionRequest | None = None
) -> DecisionOutcome:
    """Approve; the last approval needed completes the transition."""
    return await _decide(request, who, task_id, "approve", body or DecisionRequest())


@router.post("/{task_id}/reject", response_model=DecisionOutcome)
async def reject(
    task_id: TaskId, request: Request, who: Decider, body: DecisionRequest | None = None
) -> DecisionOutcome:
    """Reject: the task closes and the instance stays where it is."""
    return await _decide(request, who, task_id, "reject", body or DecisionRequest())


@router.post("/{task_id}/comment", response_model=DecisionOutcome)
async def comment(
    task_id: TaskId, request: Request, who: Decider, body: DecisionRequest
) -> DecisionOutcome:
    return await _decide(request, who, task_id, "comment", body)
