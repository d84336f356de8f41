"""/api/v1/models/{name}/aliases: move, remove and trace aliases.

Handlers are ``async`` and hand the service call to the thread pool themselves (one
trip, where a plain ``def`` handler takes two: FastAPI validates its response there).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from modelsteward.api.policy import allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry import aliases
from modelsteward.registry.views import AliasChangeView

router = APIRouter(prefix="/api/v1/models/{name}/aliases", tags=["aliases"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Mover = Annotated[Principal, Depends(allow(Permission.ALIAS_WRITE))]


@router.put("/{alias}", response_model=AliasChangeView)
async def set_alias(
    name: str,
    alias: str,
    request: Request,
    who: Mover,
    version: Annotated[int, Body(embed=True, ge=1)],
) -> AliasChangeView:
    return await run_in_threadpool(
        aliases.set_alias, steward_of(request), who, name, alias, version
    )


@router.delete("/{alias}", response_model=AliasChangeView)
async def remove_alias(name: str, alias: str, request: Request, who: Mover) -> AliasChangeView:
    return await run_in_threadpool(aliases.remove_alias, steward_of(request), who, name, alias)


@router.get("", response_model=list[AliasChangeView])
async def alias_history(
    name: str,
    request: Request,
    who: Reader,
    alias: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AliasChangeView]:
    """Every move of every alias (or of one), oldest first."""
    return await run_in_threadpool(aliases.alias_history, steward_of(request), name, alias)
