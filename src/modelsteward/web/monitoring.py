"""A deployment's monitoring page: every metric over time with its threshold, and drift
drawn per feature as the training distribution against the newest traffic.

Breached metrics come first and are named at the top. An operator can run every
monitor now (a same-origin form needing ``monitoring.write``); scheduled runs happen
anyway in the background of every server process.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from modelsteward.api.policy import page, steward_of
from modelsteward.context import Steward
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.monitoring.overview import feature_drift, overview
from modelsteward.monitoring.report.svg import overlay
from modelsteward.monitoring.service import list_monitors, run_now
from modelsteward.serving.deployments import get_deployment
from modelsteward.web.csrf import same_origin
from modelsteward.web.monitor_charts import metric_chart
from modelsteward.web.rendering import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])

Viewer = Annotated[Principal, Depends(page(Permission.INVENTORY_READ))]
Watcher = Annotated[Principal, Depends(page(Permission.MONITORING_WRITE))]

RECENT = 5_000
PANEL_CHARTS = 3


def monitoring_path(name: str) -> str:
    return "/deployments/" + quote(name, safe="") + "/monitoring"


def _context(steward: Steward, principal: Principal, name: str) -> dict[str, Any]:
    deployment = get_deployment(steward, name, 1)  # 404 before anything else
    seen = overview(steward, name)
    charts = [
        {"series": s, "chart": metric_chart(f"{s.monitor}: {s.title} over time", s.points)}
        for s in seen.series
    ]
    report = feature_drift(steward, name, last=RECENT)
    overlays = []
    if report is not None:
        verdicts = {c.column: c for c in report.drift.columns}
        for dist in report.distributions:
            # overlay() escapes every label it writes; it returns one <svg> element.
            overlays.append(
                {"dist": dist, "verdict": verdicts.get(dist.column), "svg": Markup(overlay(dist))}
            )
    return {
        "nav": "deployments",
        "deployment": deployment,
        "overview": seen,
        "charts": charts,
        "report": report,
        "overlays": overlays,
        "recent": RECENT,
        "can_run": principal.can(Permission.MONITORING_WRITE),
        "notice": None,
    }


def monitoring_panels(steward: Steward, deployments: list[Any]) -> list[dict[str, Any]]:
    """For the model page: each deployment's leading metrics (breached first), drawn."""
    panels = []
    for row in deployments:
        name = row.view.name
        seen = overview(steward, name)
        charts = [
            {"series": s, "chart": metric_chart(f"{name} {s.monitor}: {s.title}", s.points)}
            for s in seen.series[:PANEL_CHARTS]
        ]
        panels.append(
            {
                "deployment": name,
                "path": monitoring_path(name),
                "charts": charts,
                "breached": len(seen.breached),
            }
        )
    return panels


@router.get("/deployments/{name}/monitoring")
async def monitoring_page(name: str, request: Request, who: Viewer) -> Response:
    context = await run_in_threadpool(_context, steward_of(request), who, name)
    ran = request.query_params.get("ran", "")
    if ran.isascii() and ran.isdigit() and len(ran) < 4:
        context["notice"] = f"Ran {ran} monitor(s) just now."
    return render(request, "monitoring.html", context)


@forms.post("/deployments/{name}/monitoring/run")
async def run_all(name: str, request: Request, who: Watcher) -> Response:
    steward = steward_of(request)

    def run() -> int:
        monitors = [m for m in list_monitors(steward, name) if m.enabled]
        for monitor in monitors:
            run_now(steward, monitor.id)
        return len(monitors)

    count = await run_in_threadpool(run)
    return RedirectResponse(
        f"{monitoring_path(name)}?ran={count}", status_code=303, headers=SECURITY_HEADERS
    )
