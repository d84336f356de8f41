"""The approver's inbox: tasks the signed-in user's role decides, with approve/reject/comment.

A decision is a plain same-origin form post; the life cycle service enforces the
role, separation of duties and one decision per person, and the page shows its
refusal in words. After a decision the browser goes back where it came from: the
inbox, or the version's life cycle page when the form was posted from there.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from modelsteward.api.params import Number
from modelsteward.api.policy import page, steward_of
from modelsteward.errors import StewardError
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.reading import TASK_STATUSES, get_task, list_tasks
from modelsteward.web.csrf import same_origin
from modelsteward.web.lifecycles import version_context, version_page_path
from modelsteward.web.rendering import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])

Viewer = Annotated[Principal, Depends(page(Permission.INVENTORY_READ))]
Decider = Annotated[Principal, Depends(page(Permission.TASKS_DECIDE))]

DECIDED = {"approve": "approved", "reject": "rejected", "comment": "commented on"}


def _inbox(request: Request, who: Principal, status: str) -> dict[str, Any]:
    tasks = list_tasks(steward_of(request), who, status=status)
    return {
        "nav": "tasks",
        "tasks": tasks,
        "status": status,
        "statuses": TASK_STATUSES,
        "can_decide": who.can(Permission.TASKS_DECIDE),
        "notice": None,
        "error": None,
    }


@router.get("/tasks")
async def tasks_page(request: Request, who: Viewer) -> Response:
    status = request.query_params.get("status", "open")
    status = status if status in TASK_STATUSES else "open"
    context = await run_in_threadpool(_inbox, request, who, status)
    decided, task = request.query_params.get("decided", ""), request.query_params.get("task", "")
    if decided in DECIDED.values() and task.isascii() and task.isdigit():
        context["notice"] = f"Task {task} {decided}."
    return render(request, "tasks.html", context)


@forms.post("/tasks/{task_id}/decision")
async def post_decision(task_id: Number, request: Request, who: Decider) -> Response:
    async with request.form(max_files=0, max_fields=4) as form:
        decision = form.get("decision")
        comment = form.get("comment")
        back = form.get("back")
    decision = decision if isinstance(decision, str) else ""
    comment = comment.strip()[:4000] if isinstance(comment, str) else ""
    steward = steward_of(request)
    try:
        outcome = await run_in_threadpool(decide, steward, task_id, who, decision, comment)
    except StewardError as exc:
        if back == "version" and exc.status != 404:
            task = await run_in_threadpool(get_task, steward, task_id)
            context = await run_in_threadpool(
                version_context, steward, who, task.model, task.version
            )
            context["error"] = f"Task {task_id}: {exc.message}"
            return render(request, "version_lifecycle.html", context, status_code=exc.status)
        context = await run_in_threadpool(_inbox, request, who, "open")
        context["error"] = f"Task {task_id}: {exc.message}"
        return render(request, "tasks.html", context, status_code=exc.status)
    if back == "version":
        return _back_to_version(outcome.task.model, outcome.task.version)
    query = urlencode({"decided": DECIDED[decision], "task": task_id})
    return RedirectResponse(f"/tasks?{query}", status_code=303, headers=SECURITY_HEADERS)


def _back_to_version(model: str, version: int) -> Response:
    return RedirectResponse(
        version_page_path(model, version), status_code=303, headers=SECURITY_HEADERS
    )
