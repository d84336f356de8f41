"""Changing a deployment from its page: the challenger's traffic, and rollbacks.

Both are plain HTML forms posted to routes that need ``deployment.write`` and a
same-origin form (see ``csrf``). They ask the deployment service for a new revision,
wake the rollout worker, and send the browser back to the page (post/redirect/get)
with a one-time cookie naming the revision, which the page shows as a notice. A
request the service refuses (a rollout still running, no challenger, a bad number)
shows the page again with the reason and the refusal's status code.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from modelsteward.api.policy import page, steward_of
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.serving.deployments import request_rollback, request_traffic
from modelsteward.serving.views import RevisionView
from modelsteward.web.csrf import same_origin
from modelsteward.web.deployments import FLASH_COOKIE, page_path, render_detail
from modelsteward.web.rendering import SECURITY_HEADERS

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])

Deployer = Annotated[Principal, Depends(page(Permission.DEPLOY))]

FLASH_SECONDS = 120
_MAX_FIELD = 16


async def _field(request: Request, key: str) -> str:
    async with request.form(max_files=0, max_fields=4) as form:
        value = form.get(key)
    return value.strip()[:_MAX_FIELD] if isinstance(value, str) else ""


def _whole_number(raw: str, low: int, high: int, what: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}.")
    return int(raw)


def _requested(request: Request, name: str, revision: RevisionView) -> Response:
    """Back to the page, which shows what was requested and follows its rollout."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        runtime.wake()
    response = RedirectResponse(page_path(name), status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        FLASH_COOKIE,
        str(revision.revision),
        max_age=FLASH_SECONDS,
        path=page_path(name),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/deployments/{name}/traffic")
async def change_traffic(name: str, request: Request, who: Deployer) -> Response:
    raw = await _field(request, "traffic")
    try:
        traffic = _whole_number(raw, 0, 100, "The challenger's traffic")
        revision = await run_in_threadpool(request_traffic, steward_of(request), who, name, traffic)
    except (Conflict, InvalidInput) as exc:
        return await render_detail(request, who, name, error=exc.message, status_code=exc.status)
    return _requested(request, name, revision)


@router.post("/deployments/{name}/rollback")
async def roll_back(name: str, request: Request, who: Deployer) -> Response:
    raw = await _field(request, "revision")
    try:
        target = _whole_number(raw, 1, 10**9, "The revision to return to")
        revision = await run_in_threadpool(request_rollback, steward_of(request), who, name, target)
    except (Conflict, InvalidInput, NotFound) as exc:
        return await render_detail(request, who, name, error=exc.message, status_code=exc.status)
    return _requested(request, name, revision)
