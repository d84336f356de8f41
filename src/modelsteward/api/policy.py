"""Every route declares who may call it: a permission, or explicitly public.

A test enumerates the app's routes and fails when one has no policy. Credentials
are a Bearer token for the API, or the web session cookie for pages.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from modelsteward.context import Steward
from modelsteward.errors import Forbidden
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal, authenticate_token, cached_principal

SESSION_COOKIE = "steward_session"


def steward_of(request: Request) -> Steward:
    return request.app.state.steward


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class Policy:
    """A FastAPI dependency that authenticates the caller and checks one permission.

    It runs on the event loop: a token accepted in the last few seconds is answered
    from memory, and only a look-up in the database goes to the thread pool.
    """

    def __init__(self, permission: Permission | None, *, cookie: bool = False) -> None:
        self.permission = permission
        self.cookie = cookie

    async def __call__(self, request: Request) -> Principal:
        token = bearer_token(request)
        if token is None and self.cookie:
            token = request.cookies.get(SESSION_COOKIE)
        steward = steward_of(request)
        principal = cached_principal(steward, token)
        if principal is None:
            principal = await run_in_threadpool(authenticate_token, steward, token)
        if self.permission is not None and not principal.can(self.permission):
            raise Forbidden(f"role {principal.role!r} lacks permission {self.permission.value!r}")
        request.state.principal = principal
        return principal


class Public:
    """Marks a route as deliberately open (health checks, the login page)."""

    def __call__(self) -> None:
        return None


def allow(permission: Permission | None) -> Policy:
    """``permission=None`` means any authenticated user."""
    return Policy(permission)


def page(permission: Permission | None) -> Policy:
    return Policy(permission, cookie=True)


PUBLIC = Public()
