"""/api/v1/health, /api/v1/whoami, /api/v1/flavors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from modelsteward import __version__
from modelsteward.api.policy import PUBLIC, allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry.flavors.base import available_flavors

router = APIRouter(prefix="/api/v1", tags=["system"])

Anyone = Annotated[Principal, Depends(allow(None))]
# What the registry can load is inventory knowledge; a consuming application has no use for it.
Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]


@router.get("/health", dependencies=[Depends(PUBLIC)])
def health(request: Request) -> dict[str, Any]:
    steward = steward_of(request)
    return {
        "status": "ok",
        "version": __version__,
        "database": steward.db.dialect,
        "home_id": steward.settings.home_id,
    }


@router.get("/whoami")
def whoami(who: Anyone) -> dict[str, Any]:
    return {"name": who.name, "role": who.role, "permissions": sorted(who.permissions)}


@router.get("/flavors")
def flavors(who: Reader) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "description": f.description, "needs_trust": f.needs_trust}
        for f in sorted(available_flavors().values(), key=lambda f: f.name)
    ]
