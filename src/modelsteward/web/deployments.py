"""The deployment pages: every deployment at a glance, and one deployment in detail.

A deployment's page shows its traffic split, the last hour of traffic read from the
prediction log, and its revision history with each rollout's steps. The live section
reloads itself every few seconds through HTMX; when a revision has been requested or
has finished since the page was drawn, that reload asks for the whole page instead,
so the split and the history never show a state that has gone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from modelsteward.api.policy import page, steward_of
from modelsteward.context import Steward
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.serving.deployments import get_deployment, list_deployments
from modelsteward.serving.predlog import PredictionLog
from modelsteward.serving.views import DeploymentView, RevisionView
from modelsteward.web.live_section import live_context
from modelsteward.web.live_traffic import live_traffic
from modelsteward.web.rendering import SECURITY_HEADERS, is_htmx, render
from modelsteward.web.rollout_timeline import (
    OPEN,
    REVISION_STATES,
    Stage,
    failure,
    rollback_target,
    timeline,
)
from modelsteward.web.traffic_split import traffic_split_svg

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(page(Permission.INVENTORY_READ))]

FLASH_COOKIE = "steward_flash"
STRATEGY_NAMES = {
    "direct": "Direct",
    "canary": "Canary",
    "ab": "A/B, sticky by request key",
    "shadow": "Shadow",
    "none": "Nothing serving",
}
FAILED = ("rolled_back", "failed")
_ROLE_ORDER = {"champion": 0, "challenger": 1, "shadow": 2}


@dataclass(frozen=True)
class RouteChip:
    role: str
    text: str


@dataclass(frozen=True)
class DeploymentRow:
    """A deployment as the list and the model page show it."""

    view: DeploymentView
    chips: list[RouteChip]
    rolling_out: RevisionView | None
    last_failed: RevisionView | None


@dataclass(frozen=True)
class RevisionEntry:
    """A revision on the history timeline, and whether it can be returned to."""

    revision: RevisionView
    chips: list[RouteChip]
    state_label: str
    state_css: str
    stages: list[Stage]
    failed: Stage | None
    rollback_to: int | None
    can_return: bool


def route_chips(routes: list[dict[str, Any]]) -> list[RouteChip]:
    """``v3 champion 90%`` for answering routes, ``v5 shadow`` for mirrored ones."""
    ordered = sorted(routes, key=lambda r: (_ROLE_ORDER.get(r["role"], 9), r["version"]))
    return [
        RouteChip(r["role"], f"v{r['version']} {r['role']}")
        if r["role"] == "shadow"
        else RouteChip(r["role"], f"v{r['version']} {r['role']} {r['weight']}%")
        for r in ordered
    ]


def deployment_row(view: DeploymentView) -> DeploymentRow:
    newest = view.revisions[0] if view.revisions else None
    rolling = newest if newest is not None and newest.status in OPEN else None
    failed = newest if newest is not None and newest.status in FAILED else None
    return DeploymentRow(view, route_chips(view.routes), rolling, failed)


def model_deployments(steward: Steward, model: str) -> list[DeploymentRow]:
    """Where ``model`` is deployed, for its page."""
    return [deployment_row(d) for d in list_deployments(steward) if d.model == model]


def state_token(view: DeploymentView) -> str:
    """Changes whenever a revision is requested, finishes or starts serving."""
    newest = view.revisions[0] if view.revisions else None
    latest = f"{newest.revision}.{newest.status}" if newest is not None else "0"
    return f"{view.applied_revision}.{latest}"


def _revision_entry(view: DeploymentView, revision: RevisionView) -> RevisionEntry:
    label, css = REVISION_STATES.get(revision.status, (revision.status, "badge-muted"))
    return RevisionEntry(
        revision=revision,
        chips=route_chips(revision.routes),
        state_label=label,
        state_css=css,
        stages=timeline(revision),
        failed=failure(revision),
        rollback_to=rollback_target(revision),
        can_return=revision.status == "superseded" and revision.revision != view.applied_revision,
    )


def flash_of(view: DeploymentView, cookie: str | None) -> tuple[str, str] | None:
    """The notice for a revision this browser just requested: (style, text)."""
    if not cookie or not cookie.isascii() or not cookie.isdigit() or len(cookie) > 9:
        return None
    revision = next((r for r in view.revisions if r.revision == int(cookie)), None)
    if revision is None:
        return None
    what = f"Revision {revision.revision} ({revision.reason})"
    if revision.status == "applied":
        return "ok", f"{what} was rolled out and is serving now."
    if revision.status in OPEN:
        return "ok", f"{what} was requested. It is rolling out; this page reloads when it is done."
    failed = failure(revision)
    at = f" at the {failed.name} step" if failed else ""
    return "error", f"{what} failed{at}; the previous revision keeps serving."


def detail_context(
    steward: Steward,
    log: PredictionLog,
    principal: Principal,
    name: str,
    *,
    flash_cookie: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    view = get_deployment(steward, name)
    challenger = next((r for r in view.routes if r["role"] == "challenger"), None)
    newest = view.revisions[0] if view.revisions else None
    return {
        "nav": "deployments",
        "deployment": view,
        "strategy_name": STRATEGY_NAMES.get(view.strategy, view.strategy),
        "chips": route_chips(view.routes),
        "split": traffic_split_svg(view.routes),
        "challenger": challenger,
        "rolling_out": newest if newest is not None and newest.status in OPEN else None,
        "revisions": [_revision_entry(view, r) for r in view.revisions],
        "can_deploy": principal.can(Permission.DEPLOY),
        "seen": state_token(view),
        "flash": flash_of(view, flash_cookie),
        "error": error,
        **live_context(live_traffic(log, view.name)),
    }


def prediction_log(request: Request) -> PredictionLog:
    return request.app.state.prediction_log


async def render_detail(
    request: Request,
    principal: Principal,
    name: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The deployment page; a flash cookie is shown once, then cleared."""
    cookie = request.cookies.get(FLASH_COOKIE)
    context = await run_in_threadpool(
        detail_context,
        steward_of(request),
        prediction_log(request),
        principal,
        name,
        flash_cookie=cookie,
        error=error,
    )
    response = render(request, "deployment.html", context, status_code=status_code)
    if cookie is not None:
        response.delete_cookie(FLASH_COOKIE, path=page_path(name), httponly=True, samesite="strict")
    return response


def page_path(name: str) -> str:
    return "/deployments/" + quote(name, safe="")


@router.get("/deployments")
async def deployments_page(request: Request, who: Viewer) -> Response:
    everything = await run_in_threadpool(list_deployments, steward_of(request))
    counts = Counter(d.environment for d in everything)
    chosen = request.query_params.get("environment", "").strip()
    chosen = chosen if chosen in counts else ""
    rows = [deployment_row(d) for d in everything if not chosen or d.environment == chosen]
    return render(
        request,
        "deployments.html",
        {
            "nav": "deployments",
            "rows": rows,
            "environments": sorted(counts.items()),
            "total": len(everything),
            "chosen": chosen,
        },
    )


@router.get("/deployments/{name}")
async def deployment_page(name: str, request: Request, who: Viewer) -> Response:
    return await render_detail(request, who, name)


@router.get("/deployments/{name}/live")
async def live_section(name: str, request: Request, who: Viewer) -> Response:
    """The live section for HTMX; a reload of the whole page once the deployment changed."""
    if not is_htmx(request):
        return RedirectResponse(page_path(name), status_code=303, headers=SECURITY_HEADERS)
    steward, log = steward_of(request), prediction_log(request)
    view = await run_in_threadpool(get_deployment, steward, name, 1)
    if request.query_params.get("seen") != state_token(view):
        return Response(status_code=200, headers={**SECURITY_HEADERS, "HX-Refresh": "true"})
    live = await run_in_threadpool(live_traffic, log, view.name)
    context = {"deployment": view, "seen": state_token(view), **live_context(live)}
    return render(request, "_deployment_live.html", context)
