"""ASGI middleware: request ids, and body-size limits enforced while streaming.

A limit is checked against ``Content-Length`` up front and against the bytes
actually received, so an oversized body is refused without being buffered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelsteward.ids import request_id

_OWN_HEADERS = (b"x-request-id", b"x-content-type-options")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id()
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() not in _OWN_HEADERS
                ]
                # nosniff on every answer: a downloaded artifact is never run as a script
                message["headers"] = [
                    *headers,
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class UploadRoute:
    """A route that takes files, and the media types its files come as."""

    pattern: re.Pattern[str]
    methods: frozenset[str]
    media_types: frozenset[str]


@dataclass(frozen=True)
class BodyLimits:
    """Two limits: file uploads (routes whose OpenAPI body is a file) may carry up to
    ``STEWARD_MAX_UPLOAD_BYTES``; every other body (JSON, YAML, forms) the much smaller
    ``STEWARD_MAX_JSON_BYTES``, so a predict call cannot make the server buffer 512 MiB."""

    json_bytes: int
    upload_bytes: int
    uploads: tuple[UploadRoute, ...] = ()

    def for_request(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str]:
        """The limit for this request (``headers``: its headers, read once by the
        caller), and the setting that sets it."""
        path, method = scope.get("path", ""), scope.get("method", "GET")
        content_type = headers.get(b"content-type", b"")
        media_type = content_type.decode("latin-1").split(";")[0].strip().lower()
        for route in self.uploads:
            wanted = media_type in route.media_types and method in route.methods
            if wanted and route.pattern.match(path):
                return self.upload_bytes, "STEWARD_MAX_UPLOAD_BYTES"
        return self.json_bytes, "STEWARD_MAX_JSON_BYTES"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = scope.get("state", {}).get("request_id", "-")
        headers = dict(scope.get("headers", []))
        limit, setting = self.limits.for_request(scope, headers)
        if b"transfer-encoding" in headers and b"content-length" in headers:
            # Two framings disagree about where the body ends: the way requests are
            # smuggled past a proxy (RFC 9112 section 6.1). Refused, never guessed.
            await _refuse(
                send,
                rid,
                status=400,
                code="bad_request",
                message="send either Transfer-Encoding or Content-Length, not both",
            )
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, rid, **_too_large(limit, setting))
            return
        received = 0
        started = refused = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            # A framework that catches our signal answers with its own error (FastAPI: a
            # 400 "error parsing the body"); the client is told the real reason instead.
            nonlocal started, refused
            if refused:
                return
            if message["type"] == "http.response.start":
                if received > limit:
                    refused = started = True
                    await _refuse(send, rid, **_too_large(limit, setting))
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, rid, **_too_large(limit, setting))
        except Exception as exc:  # the parser may wrap our signal in its own error
            if received > limit and not started:
                await _refuse(send, rid, **_too_large(limit, setting))
            else:
                raise exc


def _too_large(limit: int, setting: str) -> dict[str, Any]:
    return {
        "status": 413,
        "code": "payload_too_large",
        "message": f"request body exceeds the limit of {limit} bytes ({setting})",
    }


async def _refuse(send: Send, rid: str, *, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "request_id": rid}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
