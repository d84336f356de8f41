"""Failures on pages answer in HTML; ``/api``, ``/v2`` and ``/metrics`` keep their JSON shape.

A page request without a valid session is sent to the sign-in page (HTMX requests
get an ``HX-Redirect`` instead, so a fragment never swaps the login form into a table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from modelsteward.api.policy import SESSION_COOKIE, steward_of
from modelsteward.errors import StewardError, Unauthorized
from modelsteward.identity.users import authenticate_token
from modelsteward.web.rendering import SECURITY_HEADERS, is_htmx, render

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]

_TITLES = {
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    422: "Invalid request",
}


# Routes for programs, not people: they answer a missing credential with 401, never a
# redirect to the sign-in page (a V2 client or a Prometheus scraper cannot follow one).
MACHINE_ROUTES = ("/api", "/v2", "/metrics")


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(path == p or path.startswith(p + "/") for p in MACHINE_ROUTES)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a local path, never ``//host`` or ``/\\host``."""
    if (
        not target
        or target.split("?")[0] in ("/login", "/logout")
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ord(c) < 32 or c == "\\" for c in target)
    ):
        return "/"
    return target


def login_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if is_htmx(request):
        # The fragment's own URL is not a page; send the user back to the page they are on.
        current = request.headers.get("hx-current-url", "")
        origin = f"{request.url.scheme}://{request.url.netloc}"
        here = current[len(origin) :] if current.startswith(origin + "/") else "/"
    location = "/login?next=" + quote(safe_next(here), safe="/")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": location, **SECURITY_HEADERS})
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


async def error_page(
    request: Request, status: int, message: str, *, find_principal: bool = True
) -> Response:
    if find_principal and getattr(request.state, "principal", None) is None:
        # Show who is signed in even on pages no policy ran for (an unknown address).
        with suppress(StewardError):
            token = request.cookies.get(SESSION_COOKIE)
            request.state.principal = await run_in_threadpool(
                authenticate_token, steward_of(request), token
            )
    title = _TITLES.get(status, "Something went wrong")
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
    )


def install_page_errors(app: FastAPI) -> None:
    """Wrap the API's handlers: pages get HTML or a redirect, ``/api`` is untouched."""
    json_steward: Handler = app.exception_handlers[StewardError]
    json_http: Handler = app.exception_handlers[StarletteHTTPException]
    json_crash: Handler = app.exception_handlers[Exception]

    async def steward_error(request: Request, exc: Exception) -> Response:
        if not is_page(request) or not isinstance(exc, StewardError):
            return await _call(json_steward, request, exc)
        if isinstance(exc, Unauthorized):
            return login_redirect(request)
        message = exc.message if exc.status < 500 else "internal error; see the server log"
        return await error_page(request, exc.status, message)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not is_page(request) or not isinstance(exc, StarletteHTTPException):
            return await _call(json_http, request, exc)
        message = "There is no page at this address." if exc.status_code == 404 else exc.detail
        return await error_page(request, exc.status_code, str(message))

    async def crash(request: Request, exc: Exception) -> Response:
        logged = await _call(json_crash, request, exc)  # logs it with the request id
        if not is_page(request):
            return logged
        rid = getattr(request.state, "request_id", "-")
        message = f"An unexpected error occurred (request id {rid}); see the server log."
        return await error_page(request, 500, message, find_principal=False)

    app.add_exception_handler(StewardError, steward_error)
    app.add_exception_handler(Exception, crash)
    app.add_exception_handler(StarletteHTTPException, http_error)


async def _call(handler: Handler, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if isinstance(result, Response):
        return result
    return await result
