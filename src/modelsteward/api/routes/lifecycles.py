"""/api/v1/lifecycles, /api/v1/lifecycle-rules and a version's life cycle.

Definitions arrive as YAML (``text/yaml`` or ``application/yaml``) or JSON
(``application/json``); saving an unchanged definition answers 200 with the stored
version, a new version 201. A transition request carries the revision the caller
read: a stale one gets 409 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from modelsteward.api.policy import allow, steward_of
from modelsteward.errors import BadRequest, PayloadTooLarge
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.lifecycle import reading, rules, store, transitions
from modelsteward.lifecycle.views import (
    DefinitionSummary,
    DefinitionView,
    InstanceView,
    RuleSpec,
    RuleView,
    SavedDefinition,
    TransitionOutcome,
    TransitionRequest,
    ValidationReport,
)

router = APIRouter(prefix="/api/v1", tags=["lifecycles"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Definer = Annotated[Principal, Depends(allow(Permission.LIFECYCLE_DEFINE))]
Mover = Annotated[Principal, Depends(allow(Permission.LIFECYCLE_TRANSITION))]
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
_YAML_TYPES = ("text/yaml", "application/yaml", "application/x-yaml", "text/x-yaml")


async def definition_text(request: Request) -> tuple[str, str]:
    """The request body as (text, format), by its content type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _YAML_TYPES:
        fmt = "yaml"
    elif content_type == "application/json":
        fmt = "json"
    else:
        raise BadRequest(
            f"send a definition as text/yaml, application/yaml or application/json, "
            f"not {content_type[:60] or 'no content type'!r}"
        )
    body = await request.body()
    if len(body) > store.MAX_SOURCE_CHARS:
        raise PayloadTooLarge(f"a definition is at most {store.MAX_SOURCE_CHARS // 1024} KiB")
    try:
        return body.decode("utf-8"), fmt
    except UnicodeDecodeError:
        raise BadRequest("the definition is not UTF-8 text") from None


@router.get("/lifecycles", response_model=list[DefinitionSummary])
async def list_definitions(request: Request, who: Reader) -> list[DefinitionSummary]:
    return await run_in_threadpool(store.list_definitions, steward_of(request))


@router.post("/lifecycles", response_model=SavedDefinition)
async def save_definition(request: Request, response: Response, who: Definer) -> SavedDefinition:
    """Store a new version of a life cycle (200 and nothing new when it is unchanged)."""
    text, fmt = await definition_text(request)
    saved = await run_in_threadpool(store.save_definition, steward_of(request), text, fmt, who)
    response.status_code = 201 if saved.created else 200
    return saved


@router.post("/lifecycles/validate", response_model=ValidationReport)
async def validate_definition(request: Request, who: Reader) -> ValidationReport:
    """Check a definition without saving it: every problem with its line."""
    text, fmt = await definition_text(request)
    return await run_in_threadpool(store.check_text, text, fmt)


@router.get("/lifecycles/{name}", response_model=DefinitionView)
async def get_definition(
    name: str,
    request: Request,
    who: Reader,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> DefinitionView:
    return await run_in_threadpool(store.get_definition, steward_of(request), name, version)


@router.get("/lifecycle-rules", response_model=list[RuleView])
async def list_rules(request: Request, who: Reader) -> list[RuleView]:
    """Assignment rules in the order they are tried (ascending priority)."""
    return await run_in_threadpool(rules.list_rules, steward_of(request))


@router.put("/lifecycle-rules", response_model=list[RuleView])
async def put_rules(
    request: Request, who: Definer, body: Annotated[list[RuleSpec], Body(max_length=500)]
) -> list[RuleView]:
    """Replace every assignment rule at once."""
    return await run_in_threadpool(rules.put_rules, steward_of(request), who, body)


@router.get("/models/{name}/versions/{version}/lifecycle", response_model=InstanceView)
async def version_lifecycle(
    name: str,
    version: Number,
    request: Request,
    who: Reader,
) -> InstanceView:
    """Where the version stands: state, history, available transitions, open tasks."""
    return await run_in_threadpool(reading.version_lifecycle, steward_of(request), name, version)


@router.post(
    "/models/{name}/versions/{version}/lifecycle/transitions", response_model=TransitionOutcome
)
async def request_transition(
    name: str, version: Number, body: TransitionRequest, request: Request, who: Mover
) -> TransitionOutcome:
    """Ask for a transition: applied, waiting for approvals, or blocked by a check."""
    steward = steward_of(request)

    def run() -> TransitionOutcome:
        instance_id = reading.instance_of(steward, name, version)
        return transitions.transition(
            steward,
            instance_id,
            body.transition,
            who,
            body.expected_revision,
            reason=body.reason,
        )

    return await run_in_threadpool(run)
