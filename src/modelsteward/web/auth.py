"""Signing in and out of the web UI.

The session cookie holds an API token: the one pasted, or a new ``web-session`` token
issued on password sign-in. It is HttpOnly and SameSite=Strict, so scripts cannot read
it and other sites cannot ride on it. It lasts ``STEWARD_SESSION_HOURS``, and so does a
password sign-in's token. Failed sign-ins are throttled (``identity.throttle``).

Signing in and out are posts from this server's own pages only (``same_origin``): a
cross-site form could otherwise sign the victim's browser in as the attacker (login
CSRF), whose session would then see what the victim enters.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from modelsteward.api.policy import PUBLIC, SESSION_COOKIE, steward_of
from modelsteward.context import Steward
from modelsteward.errors import TooManyRequests, Unauthorized
from modelsteward.identity.throttle import sign_in_with_password, sign_in_with_token
from modelsteward.identity.users import issue_token, revoke_session
from modelsteward.web.csrf import same_origin
from modelsteward.web.errors import safe_next
from modelsteward.web.rendering import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(PUBLIC)])

WEB_SESSION_TOKEN = "web-session"
_MAX_FIELD = 1024


def _login_page(
    request: Request, next_path: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "login.html",
        {
            "next": safe_next(next_path),
            "error": error,
            "signed_out": request.query_params.get("signed_out") == "1",
        },
        status_code=status_code,
    )


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request, request.query_params.get("next", "/"))


@router.post("/login", dependencies=[Depends(same_origin)])
async def login(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=8) as form:
        fields = {k: str(v)[:_MAX_FIELD] for k, v in form.items() if isinstance(v, str)}
    next_path = safe_next(fields.get("next"))
    steward = steward_of(request)
    by_token = fields.get("method") == "token"
    address = request.client.host if request.client else "unknown"
    try:
        if by_token:
            token = fields.get("token", "").strip()
            await run_in_threadpool(sign_in_with_token, steward, token, address)
        else:
            token = await _password_session(steward, fields, address)
    except Unauthorized as exc:
        message = "That token is not valid or has been revoked." if by_token else exc.message
        return _login_page(request, next_path, error=message, status_code=401)
    except TooManyRequests as exc:
        page = _login_page(request, next_path, error=exc.message, status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after_s or 1)
        return page
    response = RedirectResponse(next_path, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
        max_age=int(steward.settings.session_hours * 3600),
    )
    return response


async def _password_session(steward: Steward, fields: dict[str, str], address: str) -> str:
    """Check the password (throttled per account and address), then issue the token the
    cookie will carry."""
    name, password = fields.get("username", "").strip(), fields.get("password", "")
    if not name or not password:
        raise Unauthorized("Enter your user name and password.")
    try:
        principal = await run_in_threadpool(sign_in_with_password, steward, name, password, address)
    except Unauthorized:
        raise Unauthorized("Unknown user or wrong password.") from None
    return await run_in_threadpool(
        partial(issue_token, expires_in_s=steward.settings.session_hours * 3600),
        steward,
        principal,
        principal.name,
        WEB_SESSION_TOKEN,
    )


@router.get("/logout")
def logout_form(request: Request) -> Response:
    """Signing out changes state, so it is a POST; this page offers the button."""
    return render(request, "logout.html")


@router.post("/logout", dependencies=[Depends(same_origin)])
def logout(request: Request) -> Response:
    """Clears the cookie; a session token issued by password sign-in is also revoked.

    A pasted API token is the user's own credential and stays valid.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        revoke_session(request.app.state.steward, token)
    response = RedirectResponse("/login?signed_out=1", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
