"""/api/v1/pipelines and /api/v1/runs: retraining pipelines, their runs, reproduction."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from modelsteward.api.policy import allow, steward_of
from modelsteward.errors import InvalidInput
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.training import pipelines, reproduce, runs

router = APIRouter(prefix="/api/v1/pipelines", tags=["training"])
runs_router = APIRouter(prefix="/api/v1/runs", tags=["training"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Trainer = Annotated[Principal, Depends(allow(Permission.TRAINING_WRITE))]
Truster = Annotated[Principal, Depends(allow(Permission.TRUST_GRANT))]
Model = Annotated[str, Path(max_length=128)]
RunId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Document = Annotated[dict[str, Any], Body()]
MAX_SOURCE_BYTES = 16 * 1024 * 1024


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: Annotated[str, Field(min_length=1, max_length=128)]
    version: Annotated[int, Field(ge=1)] | None = None
    cause: Annotated[str, Field(min_length=1, max_length=512)] | None = None


class ReproduceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: Annotated[str, Field(min_length=1, max_length=128)]
    version: Annotated[int, Field(ge=1)] | Literal["latest"]


@router.get("")
def list_pipelines(request: Request, who: Reader) -> list[dict[str, Any]]:
    return pipelines.list_pipelines(steward_of(request))


@router.post(
    "/sources",
    status_code=201,
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}}},
)
async def upload_source(
    request: Request, who: Trainer, name: Annotated[str, Query(max_length=255)]
) -> dict[str, Any]:
    """The raw body is a ``.py`` file or a ``.tar.gz`` folder; answers the ``source``."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_SOURCE_BYTES:
            raise InvalidInput(f"source: larger than {MAX_SOURCE_BYTES // 1024 // 1024} MiB")
    return pipelines.upload_source(steward_of(request), bytes(body), name)


@router.put("/{model}", status_code=201)
def create(
    request: Request,
    who: Trainer,
    model: Model,
    body: Document,
    replace: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    return pipelines.create_pipeline(steward_of(request), who, model, body, replace=replace)


@router.get("/{model}")
def show(request: Request, who: Reader, model: Model) -> dict[str, Any]:
    return pipelines.get_pipeline(steward_of(request), model)


@router.post("/{model}/trust")
def trust(request: Request, who: Truster, model: Model) -> dict[str, Any]:
    return pipelines.grant_trust(steward_of(request), who, model)


@runs_router.get("")
def list_runs(
    request: Request,
    who: Reader,
    model: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[Literal["queued", "running", "succeeded", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return runs.list_runs(steward_of(request), model, status, limit)


@runs_router.post("", status_code=202)
def retrain(request: Request, who: Trainer, body: RetrainRequest) -> dict[str, Any]:
    """Queue a run now (manual trigger); the same cause on the same data shares a run."""
    return runs.request_run(
        steward_of(request),
        who.name,
        body.model,
        cause=body.cause or f"manual by {who.name}",
        version=body.version,
    )


@runs_router.post("/reproduce")
def reproduce_version(request: Request, who: Trainer, body: ReproduceRequest) -> dict[str, Any]:
    return reproduce.reproduce(steward_of(request), body.model, body.version)


@runs_router.get("/{run_id}")
def show_run(request: Request, who: Reader, run_id: RunId) -> dict[str, Any]:
    return runs.get_run(steward_of(request), run_id)


@runs_router.get("/{run_id}/logs", response_class=PlainTextResponse)
def logs(request: Request, who: Reader, run_id: RunId) -> str:
    return runs.run_log(steward_of(request), run_id)
