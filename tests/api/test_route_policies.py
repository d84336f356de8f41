"""Every route declares who may call it; none is open by accident."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from modelsteward.api.app import create_app
from modelsteward.api.policy import Policy, Public
from modelsteward.context import Steward

# Framework routes that serve the API description and static files.
DOCUMENTATION = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"}


def _has_policy(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Policy | Public):
            return True
        stack.extend(dep.dependencies)
    return False


def _all_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Flatten routers included into others (FastAPI keeps them nested)."""
    flat: list[BaseRoute] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        flat.extend(_all_routes(nested.routes) if nested is not None else [route])
    return flat


def test_every_route_has_an_explicit_policy(steward: Steward) -> None:
    app = create_app(steward)
    missing = []
    for route in _all_routes(app.routes):
        if isinstance(route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        if isinstance(route, APIRoute):
            if not _has_policy(route):
                missing.append(f"{sorted(route.methods)} {route.path}")
        else:
            assert route.path in DOCUMENTATION, f"unexpected route {route.path}"
    assert not missing, f"routes without a policy: {missing}"


def test_the_api_answers_401_without_a_token(api, server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    for path in ("/api/v1/models", "/api/v1/audit", "/api/v1/users", "/api/v1/whoami"):
        response = httpx.get(server + path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
