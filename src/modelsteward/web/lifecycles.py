"""Life cycle pages: the definitions drawn, and where each version stands in its own.

``/lifecycles`` lists every definition with its diagram; ``/lifecycles/{name}`` shows
one version of a definition with its source. ``/models/{name}/versions/{n}/lifecycle``
draws the version's instance with its current state and path highlighted, the
timeline of what happened, the transitions it may take next (a form for each, carrying
the revision the page was read at, so a stale page gets a clear refusal instead of a
double move) and the approvals it waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from modelsteward.api.params import Number
from modelsteward.api.policy import page, steward_of
from modelsteward.context import Steward
from modelsteward.errors import InvalidInput, NotFound, StewardError
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.spec import LifecycleSpec
from modelsteward.lifecycle.store import get_definition, list_definitions, load_spec
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import HistoryEntry, InstanceView, TransitionOutcome
from modelsteward.web.csrf import same_origin
from modelsteward.web.lifecycle_diagram import lifecycle_svg
from modelsteward.web.rendering import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])

Viewer = Annotated[Principal, Depends(page(Permission.INVENTORY_READ))]
Mover = Annotated[Principal, Depends(page(Permission.LIFECYCLE_TRANSITION))]

_MAX_FIELD = 2000
PANEL_EVENTS = 4
NOTICES = {
    "applied": "applied",
    "waiting": "requested; it waits for approval",
    "blocked": "blocked by a check (see the timeline)",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an instance's history, worded for people."""

    entry: HistoryEntry
    headline: str
    tone: str  # ok | waiting | blocked | info


def _headline(entry: HistoryEntry) -> tuple[str, str]:
    step = entry.transition or "event"
    if entry.outcome == "started":
        return f"started in {entry.to_state}", "info"
    if entry.outcome == "action":
        action, _, _ = entry.reason.partition(":")
        return f"on entering {entry.to_state}: {action}", "info"
    if entry.outcome == "applied":
        return f"{step}: {entry.from_state} → {entry.to_state}", "ok"
    if entry.outcome == "waiting":
        return f"{step}: waiting for approval", "waiting"
    if entry.outcome == "escalated":
        return f"{step}: approval escalated", "waiting"
    if entry.outcome in ("blocked", "rejected", "failed"):
        return f"{step}: {entry.outcome}", "blocked"
    return f"{step}: {entry.outcome}", "info"


def timeline(instance: InstanceView) -> list[TimelineEntry]:
    """Newest first, as an activity feed reads."""
    entries = []
    for entry in reversed(instance.history):
        headline, tone = _headline(entry)
        entries.append(TimelineEntry(entry, headline, tone))
    return entries


def instance_spec(steward: Steward, instance: InstanceView) -> LifecycleSpec:
    """The definition version the instance started with (running instances keep theirs)."""
    definition = get_definition(steward, instance.definition, instance.definition_version)
    return load_spec(definition.spec)


def instance_drawing(spec: LifecycleSpec, instance: InstanceView) -> Markup:
    applied = [h for h in instance.history if h.outcome == "applied"]
    visited = {h.from_state for h in applied if h.from_state} | {
        h.to_state for h in instance.history if h.to_state
    }
    return lifecycle_svg(
        spec,
        current=instance.state,
        taken=[h.transition for h in applied if h.transition],
        visited=visited - {instance.state},
    )


def version_page_path(model: str, version: int) -> str:
    return f"/models/{quote(model, safe='')}/versions/{version}/lifecycle"


def version_context(
    steward: Steward, principal: Principal, model: str, version: int
) -> dict[str, Any]:
    instance = version_lifecycle(steward, model, version)
    spec = instance_spec(steward, instance)
    return {
        "instance": instance,
        "instance_spec": spec,
        "drawing": instance_drawing(spec, instance),
        "timeline": timeline(instance),
        "can_move": principal.can(Permission.LIFECYCLE_TRANSITION),
        "can_decide": principal.can(Permission.TASKS_DECIDE),
        "page_path": version_page_path(model, version),
        "nav": "inventory",
        "notice": None,
        "error": None,
    }


def lifecycle_panel(steward: Steward, model: str, version: int) -> dict[str, Any] | None:
    """The model page's summary: state and the latest events; None without an instance."""
    try:
        instance = version_lifecycle(steward, model, version)
    except NotFound:
        return None
    return {
        "instance": instance,
        "timeline": timeline(instance)[:PANEL_EVENTS],
        "path": version_page_path(model, version),
    }


@router.get("/lifecycles")
async def lifecycles_page(request: Request, who: Viewer) -> Response:
    steward = steward_of(request)

    def gather() -> list[dict[str, Any]]:
        cards = []
        for summary in list_definitions(steward):
            definition = get_definition(steward, summary.name)
            cards.append({"summary": summary, "drawing": lifecycle_svg(load_spec(definition.spec))})
        return cards

    cards = await run_in_threadpool(gather)
    return render(request, "lifecycles.html", {"nav": "lifecycles", "cards": cards})


@router.get("/lifecycles/{name}")
async def lifecycle_page(name: str, request: Request, who: Viewer) -> Response:
    raw = request.query_params.get("version", "")
    version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else None
    definition = await run_in_threadpool(get_definition, steward_of(request), name, version)
    context = {
        "nav": "lifecycles",
        "definition": definition,
        "drawing": lifecycle_svg(load_spec(definition.spec)),
    }
    return render(request, "lifecycle.html", context)


@router.get("/models/{model}/versions/{version}/lifecycle")
async def version_lifecycle_page(
    model: str, version: Number, request: Request, who: Viewer
) -> Response:
    context = await run_in_threadpool(version_context, steward_of(request), who, model, version)
    params = request.query_params
    moved, outcome, at = params.get("moved", ""), params.get("outcome"), params.get("at")
    known = {t.name for t in context["instance_spec"].transitions}
    # Shown only while nothing else has happened since: a reload later does not repeat it.
    if outcome in NOTICES and moved in known and at == str(context["instance"].revision):
        context["notice"] = f"{moved}: {NOTICES[outcome]}"
    return render(request, "version_lifecycle.html", context)


async def _form(request: Request, *keys: str) -> dict[str, str]:
    async with request.form(max_files=0, max_fields=8) as form:
        values = {key: form.get(key) for key in keys}
    return {k: v.strip()[:_MAX_FIELD] if isinstance(v, str) else "" for k, v in values.items()}


@forms.post("/models/{model}/versions/{version}/lifecycle/transition")
async def request_transition(model: str, version: Number, request: Request, who: Mover) -> Response:
    fields = await _form(request, "transition", "revision", "reason")
    steward = steward_of(request)
    instance = await run_in_threadpool(version_lifecycle, steward, model, version)
    revision = fields["revision"]

    def move() -> TransitionOutcome:
        if not (revision.isascii() and revision.isdigit() and len(revision) < 12):
            raise InvalidInput("The page's revision is missing; reload the page and try again.")
        name = fields["transition"][:64]
        return transition(steward, instance.id, name, who, int(revision), reason=fields["reason"])

    try:
        outcome = await run_in_threadpool(move)
    except StewardError as exc:
        context = await run_in_threadpool(version_context, steward, who, model, version)
        context["error"] = exc.message
        return render(request, "version_lifecycle.html", context, status_code=exc.status)
    query = urlencode(
        {"moved": outcome.transition, "outcome": outcome.outcome, "at": outcome.instance.revision}
    )
    return RedirectResponse(
        f"{version_page_path(model, version)}?{query}", status_code=303, headers=SECURITY_HEADERS
    )
