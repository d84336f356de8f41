"""Which routes take file uploads: those whose OpenAPI request body declares a file type.

Only these get ``STEWARD_MAX_UPLOAD_BYTES``, and only for a body sent as one of those
types; every other body gets ``STEWARD_MAX_JSON_BYTES`` (see ``api.middleware``). A route
says so once, in its ``openapi_extra``, which also documents it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from modelsteward.api.middleware import UploadRoute

# Request bodies that are structured data rather than files.
STRUCTURED = frozenset({"application/json", "application/x-ndjson", "application/yaml"})


def _flat(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    flat: list[BaseRoute] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        flat.extend(_flat(nested.routes) if nested is not None else [route])
    return flat


def upload_routes(routes: Iterable[BaseRoute]) -> tuple[UploadRoute, ...]:
    found = []
    for route in _flat(routes):
        if not isinstance(route, APIRoute):
            continue
        extra: dict[str, Any] = route.openapi_extra or {}
        content = extra.get("requestBody", {}).get("content", {})
        files = frozenset(str(m).lower() for m in content) - STRUCTURED
        if files:
            found.append(UploadRoute(route.path_regex, frozenset(route.methods or ()), files))
    return tuple(found)
