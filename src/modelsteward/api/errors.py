"""One JSON error shape for every failure: ``{"error": {code, message, request_id}}``.

Never an HTML page or a stack trace: unexpected exceptions are logged with the
request id and answered with a generic 500. A client that goes away before its body
has arrived is no server failure: it is logged as a disconnect, without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from modelsteward.api.policy import Policy
from modelsteward.errors import StewardError

log = logging.getLogger("modelsteward.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "-")


def error_response(
    request: Request, status: int, code: str, message: str, details: Any = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id(request)}
    if details:
        body["details"] = details
    headers = {"X-Request-ID": request_id(request)}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def with_retry_after(response: JSONResponse, exc: StewardError) -> JSONResponse:
    """Tell the client when to come back, for errors that know (a model still loading)."""
    retry_after_s = getattr(exc, "retry_after_s", None)
    if retry_after_s:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


def client_gone(request: Request) -> Response:
    """Log a request whose client disconnected mid-body; the answer reaches no one.

    Whatever the route had staged (spooled parts, temporary files) is removed by its own
    ``finally``, as for any refused request; the status only names the case in logs."""
    log.info(
        "client disconnected before sending the whole body: %s %s (request %s)",
        request.method,
        request.url.path,
        request_id(request),
    )
    return Response(status_code=400, headers={"Connection": "close"})


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())][:10], "msg": str(e.get("msg", ""))[:300]}
        for e in exc.errors()[:20]
    ]


def _policy_of(request: Request) -> Callable[[Request], Awaitable[object]] | None:
    """The route's ``Policy`` dependency (see ``api.policy``), if it has one."""
    route = request.scope.get("route")
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while stack:
        dependency = stack.pop()
        if isinstance(dependency.call, Policy):
            return dependency.call
        stack.extend(dependency.dependencies)
    return None


async def _authorise(request: Request) -> StewardError | None:
    """The error the route's policy raises for this caller, or None when it admits them."""
    policy = _policy_of(request)
    if policy is None or getattr(request.state, "principal", None) is not None:
        return None
    try:
        await policy(request)
    except StewardError as exc:
        return exc
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StewardError)
    async def _steward(request: Request, exc: StewardError) -> JSONResponse:
        response = error_response(request, exc.status, exc.code, exc.message, exc.details or None)
        return with_retry_after(response, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI parses a JSON body before it runs the route's dependencies: who is
        # asking is settled first, so a stranger learns nothing from the body's errors.
        refused = await _authorise(request)
        if refused is not None:
            handler = request.app.exception_handlers[StewardError]
            answer = handler(request, refused)
            return answer if isinstance(answer, Response) else await answer
        details = _validation_details(exc)
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] or first["loc"])
        return error_response(request, 422, "invalid_input", f"{where}: {first['msg']}", details)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        return client_gone(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI's "error parsing the body"
            return client_gone(request)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return error_response(request, 400, "bad_request", "request body is nested too deeply")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in request %s", request_id(request))
        return error_response(request, 500, "internal_error", "internal error; see server log")
