"""/api/v1/deployments: ask for deployments, traffic changes and rollbacks; read their history.

Changes answer 202 with the pending revision: a rollout worker runs its steps, so
models are never loaded inside this request. Poll the revision to follow the steps.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from modelsteward.api.params import Number
from modelsteward.api.policy import allow, steward_of
from modelsteward.errors import NotFound
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.serving import deployments as service
from modelsteward.serving.views import DeploymentView, RevisionView

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Deployer = Annotated[Principal, Depends(allow(Permission.DEPLOY))]
Override = Annotated[str | None, Body(embed=True, max_length=500)]


class DeployRequest(BaseModel):
    model: str = Field(min_length=1, max_length=128)
    version: int | str = Field(description="A version number or an alias")
    environment: str = Field(default="production", min_length=1, max_length=64)
    strategy: str = Field(default="direct", pattern="^(direct|canary|shadow|ab)$")
    traffic: int | None = Field(default=None, ge=0, le=100)
    name: str | None = Field(default=None, max_length=128)
    override: str | None = Field(
        default=None,
        max_length=500,
        description="Break-glass: serve a version its life cycle does not admit here, "
        "for this reason (needs deployment.override; audited, raises deployment.overridden)",
    )


@router.post("", status_code=202, response_model=RevisionView)
async def deploy(body: DeployRequest, request: Request, who: Deployer) -> RevisionView:
    steward = steward_of(request)
    revision = await run_in_threadpool(
        service.request_deploy,
        steward,
        who,
        body.model,
        body.version,
        body.environment,
        strategy=body.strategy,
        traffic=body.traffic,
        name=body.name,
        override=body.override,
    )
    _wake(request)
    return revision


@router.get("", response_model=list[DeploymentView])
def list_deployments(
    request: Request, who: Reader, environment: Annotated[str | None, Query(max_length=64)] = None
) -> list[DeploymentView]:
    return service.list_deployments(steward_of(request), environment)


@router.get("/{name}", response_model=DeploymentView)
def get_deployment(name: str, request: Request, who: Reader) -> DeploymentView:
    return service.get_deployment(steward_of(request), name)


@router.get("/{name}/revisions/{revision}", response_model=RevisionView)
def get_revision(name: str, revision: Number, request: Request, who: Reader) -> RevisionView:
    view = service.get_deployment(steward_of(request), name)
    found = next((r for r in view.revisions if r.revision == revision), None)
    if found is None:
        raise NotFound(f"deployment {name!r} has no revision {revision}")
    return found


@router.put("/{name}/traffic", status_code=202, response_model=RevisionView)
def set_traffic(
    name: str,
    request: Request,
    who: Deployer,
    traffic: Annotated[int, Body(embed=True, ge=0, le=100)],
    override: Override = None,
) -> RevisionView:
    revision = service.request_traffic(steward_of(request), who, name, traffic, override)
    _wake(request)
    return revision


@router.post("/{name}/rollback", status_code=202, response_model=RevisionView)
def rollback(
    name: str,
    request: Request,
    who: Deployer,
    revision: Annotated[int | None, Body(embed=True, ge=1)] = None,
    override: Override = None,
) -> RevisionView:
    view = service.request_rollback(steward_of(request), who, name, revision, override)
    _wake(request)
    return view


def _wake(request: Request) -> None:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        runtime.wake()
