"""/api/v1/models: the inventory.

Handlers are ``async`` and hand the service call to the thread pool themselves: a
plain ``def`` handler would make FastAPI take a second trip there to validate the
response.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from modelsteward.api.params import Offset
from modelsteward.api.policy import allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry import models as inventory
from modelsteward.registry.ownership import transfer_ownership
from modelsteward.registry.specs import ModelSpec, ModelUpdate, OwnerTransfer
from modelsteward.registry.views import ModelView, Page

router = APIRouter(prefix="/api/v1/models", tags=["models"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.INVENTORY_WRITE))]
Archiver = Annotated[Principal, Depends(allow(Permission.INVENTORY_ARCHIVE))]
Transferer = Annotated[Principal, Depends(allow(Permission.OWNERSHIP_TRANSFER))]


@router.post("", status_code=201, response_model=ModelView)
async def create_model(spec: ModelSpec, request: Request, who: Writer) -> ModelView:
    return await run_in_threadpool(inventory.create_model, steward_of(request), who, spec)


@router.get("", response_model=Page)
async def search_models(
    request: Request,
    who: Reader,
    q: Annotated[str | None, Query(max_length=128)] = None,
    tag: Annotated[str | None, Query(max_length=256)] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    risk_tier: Literal["low", "medium", "high", "critical"] | None = None,
    alias: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["active", "archived", "all"] = "active",
    limit: Annotated[int, Query(ge=1, le=inventory.MAX_PAGE)] = 50,
    offset: Offset = 0,
) -> Page:
    return await run_in_threadpool(
        inventory.search_models,
        steward_of(request),
        q=q,
        tag=tag,
        owner=owner,
        risk_tier=risk_tier,
        alias=alias,
        status=None if status == "all" else status,
        limit=limit,
        offset=offset,
    )


@router.get("/{name}", response_model=ModelView)
async def get_model(name: str, request: Request, who: Reader) -> ModelView:
    return await run_in_threadpool(inventory.get_model, steward_of(request), name)


@router.patch("/{name}", response_model=ModelView)
async def update_model(name: str, update: ModelUpdate, request: Request, who: Writer) -> ModelView:
    return await run_in_threadpool(inventory.update_model, steward_of(request), who, name, update)


@router.post("/{name}/owner", response_model=ModelView)
async def transfer_owner(
    name: str, transfer: OwnerTransfer, request: Request, who: Transferer
) -> ModelView:
    """Hand the model to another owner: a governed change of its own (see ownership.py)."""
    return await run_in_threadpool(transfer_ownership, steward_of(request), who, name, transfer)


@router.post("/{name}/archive", response_model=ModelView)
async def archive_model(name: str, request: Request, who: Archiver) -> ModelView:
    return await run_in_threadpool(
        inventory.set_model_status, steward_of(request), who, name, "archived"
    )


@router.post("/{name}/restore", response_model=ModelView)
async def restore_model(name: str, request: Request, who: Archiver) -> ModelView:
    return await run_in_threadpool(
        inventory.set_model_status, steward_of(request), who, name, "active"
    )
