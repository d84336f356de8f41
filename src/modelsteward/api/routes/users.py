"""/api/v1/users: accounts and tokens (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from modelsteward.api.policy import allow, steward_of
from modelsteward.identity import users
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Admin = Annotated[Principal, Depends(allow(Permission.USERS_ADMIN))]


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    role: str = Field(max_length=32)
    password: str | None = Field(default=None, min_length=8, max_length=256)


class NewToken(BaseModel):
    name: str = Field(default="api", min_length=1, max_length=128)
    expires_in_seconds: int | None = Field(
        default=None, ge=60, le=10 * 366 * 86400, description="None: the token never expires"
    )


@router.get("")
def list_users(request: Request, who: Admin) -> list[dict[str, str]]:
    return users.list_users(steward_of(request))


@router.post("", status_code=201)
def create_user(body: NewUser, request: Request, who: Admin) -> dict[str, str]:
    return users.create_user(steward_of(request), who, body.name, body.role, body.password)


@router.post("/{name}/tokens", status_code=201)
def issue_token(name: str, body: NewToken, request: Request, who: Admin) -> dict[str, str]:
    """The token is shown once; only its hash is stored."""
    token = users.issue_token(
        steward_of(request), who, name, body.name, expires_in_s=body.expires_in_seconds
    )
    return {"user": name, "token": token}


@router.delete("/{name}/tokens")
def revoke_tokens(name: str, request: Request, who: Admin) -> dict[str, int]:
    return {"revoked": users.revoke_tokens(steward_of(request), who, name)}
