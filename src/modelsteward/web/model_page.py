"""The model page: facts, versions, lineage, metrics over time, aliases and audit trail.

A version's details load into the page through HTMX (``/models/{name}/versions/{v}``
answers a fragment to HTMX and a whole page to a browser), so every state has an address.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from modelsteward.api.downloads import file_response
from modelsteward.api.policy import page, steward_of
from modelsteward.audit.trail import list_events
from modelsteward.context import Steward
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry.aliases import alias_history
from modelsteward.registry.files import version_file
from modelsteward.registry.models import get_model
from modelsteward.registry.versions import get_version, list_versions
from modelsteward.registry.views import VersionView
from modelsteward.web.changes import summarize
from modelsteward.web.charts import metric_charts
from modelsteward.web.deployments import model_deployments
from modelsteward.web.lifecycles import lifecycle_panel
from modelsteward.web.lineage import MAX_VERSIONS, datasets_of, lineage_svg
from modelsteward.web.monitoring import monitoring_panels
from modelsteward.web.rendering import SECURITY_HEADERS, is_htmx, render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(page(Permission.INVENTORY_READ))]
Downloader = Annotated[Principal, Depends(page(Permission.ARTIFACT_DOWNLOAD))]

AUDIT_ROWS = 200
KEY_METRICS = 3


def trust_state(version: VersionView) -> dict[str, Any]:
    """Whether loading this version needs, awaits or has an explicit trust decision."""
    trust = version.trust
    if trust is None:
        return {
            "state": "safe",
            "label": "Safe format",
            "detail": "no trust decision needed",
            "reason": None,
        }
    if trust.get("granted_by"):
        return {
            "state": "granted",
            "label": "Trusted",
            "detail": f"granted by {trust['granted_by']} at {trust.get('granted_at', '?')}",
            "reason": trust.get("grant_reason") or trust.get("reason"),
        }
    return {
        "state": "pending",
        "label": "Awaiting trust",
        "detail": f"requested by {trust.get('requested_by', '?')}; needs trust.grant",
        "reason": trust.get("reason"),
    }


def version_context(principal: Principal, version: VersionView) -> dict[str, Any]:
    return {
        "version": version,
        "trust": trust_state(version),
        "datasets": datasets_of(version),
        "can_download": principal.can(Permission.ARTIFACT_DOWNLOAD),
    }


def _model_context(
    steward: Steward, principal: Principal, name: str, ref: str | None, *, history: bool = True
) -> dict[str, Any]:
    """Everything the model page shows; ``history=False`` skips history, audit, deployments."""
    model = get_model(steward, name)
    versions = list_versions(steward, name)
    selected = get_version(steward, name, ref) if ref is not None else None
    if selected is None and versions:
        selected = next((v for v in versions if v.status == "active"), versions[0])
    can_audit = principal.can(Permission.AUDIT_READ)
    events = list_events(steward, model=name, limit=AUDIT_ROWS) if can_audit and history else []
    for event in events:
        event["summary"] = summarize(event["action"], event["before"], event["after"])
    context: dict[str, Any] = {
        "nav": "inventory",
        "model": model,
        "versions": versions,
        "key_metrics": {v.version: list(v.metrics.items())[:KEY_METRICS] for v in versions},
        "lineage": lineage_svg(name, versions, selected.version if selected else None)
        if versions
        else None,
        "lineage_limit": MAX_VERSIONS,
        "charts": metric_charts(versions),
        "alias_changes": list(reversed(alias_history(steward, name))) if history else [],
        "can_audit": can_audit,
        "events": events,
        "audit_limit": AUDIT_ROWS,
        "selected": selected,
        "deployments": model_deployments(steward, name) if history else [],
    }
    context["monitoring"] = monitoring_panels(steward, context["deployments"])
    if selected is not None:
        context.update(version_context(principal, selected))
        context["lifecycle"] = lifecycle_panel(steward, name, selected.version)
    return context


@router.get("/models/{name}")
async def model_page(name: str, request: Request, who: Viewer) -> Response:
    context = await run_in_threadpool(_model_context, steward_of(request), who, name, None)
    return render(request, "model.html", context)


@router.get("/models/{name}/versions/{ref}")
async def version_page(name: str, ref: str, request: Request, who: Viewer) -> Response:
    """HTMX gets the versions area alone; a browser gets the model page with it selected."""
    fragment = is_htmx(request)
    context = await run_in_threadpool(
        _model_context, steward_of(request), who, name, ref, history=not fragment
    )
    return render(request, "_version_area.html" if fragment else "model.html", context)


@router.get("/models/{name}/versions/{ref}/files/{file_name:path}")
async def download_file(
    name: str, ref: str, file_name: str, request: Request, who: Downloader
) -> StreamingResponse:
    """The page twin of the API download: the same helper, a session cookie instead."""
    found = await run_in_threadpool(version_file, steward_of(request), name, ref, file_name)
    return file_response(found, SECURITY_HEADERS)
