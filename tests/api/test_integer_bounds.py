"""Every integer a route takes from its path or query is bounded: a huge one is 422, never 500."""

from __future__ import annotations

import re

import httpx
from fastapi.routing import APIRoute

from modelsteward.api.app import create_app
from modelsteward.api.uploads import _flat
from modelsteward.context import Steward

HUGE = "23414643222869230144462792949760"


def _integer_parameters(api: httpx.Client) -> list[tuple[str, str, str, str]]:
    """(method, path, parameter, where) for every integer parameter the API documents."""
    found = []
    for path, operations in api.get("/api/v1/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
                if "integer" in types:
                    found.append((method.upper(), path, parameter["name"], parameter["in"]))
    return found


def test_every_documented_integer_parameter_declares_bounds(api: httpx.Client) -> None:
    schema = api.get("/api/v1/openapi.json").json()
    unbounded = []
    for method, path, name, _ in _integer_parameters(api):
        parameter = next(
            p for p in schema["paths"][path][method.lower()]["parameters"] if p["name"] == name
        )
        bounds = [parameter["schema"], *parameter["schema"].get("anyOf", [])]
        if not any("maximum" in b for b in bounds):
            unbounded.append(f"{method} {path} {name}")
    assert not unbounded, unbounded


def test_a_huge_integer_in_any_documented_parameter_is_422(api: httpx.Client) -> None:
    parameters = _integer_parameters(api)
    assert len(parameters) >= 20
    wrong = {}
    for method, path, name, where in parameters:
        url = re.sub(r"\{[^}]+\}", "1", path.replace("{" + name + "}", HUGE))
        params = {name: HUGE} if where == "query" else {}
        response = api.request(method, url, params=params, json={})
        if response.status_code != 422:
            wrong[f"{method} {path} {name}"] = (response.status_code, response.text[:120])
    assert not wrong, wrong


def test_a_huge_number_in_any_path_segment_never_fails_the_server(
    api: httpx.Client, steward: Steward
) -> None:
    """Pages and string parameters too (a version may be a number or an alias)."""
    routes = [r for r in _flat(create_app(steward).routes) if isinstance(r, APIRoute)]
    failed = {}
    for route in routes:
        if "{" not in route.path:
            continue
        url = re.sub(r"\{[^}]+\}", HUGE, route.path)
        for method in sorted(route.methods):
            try:
                response = api.request(method, url, params={"offset": HUGE})
            except httpx.TransportError as exc:  # the server dropped the connection
                failed[f"{method} {route.path}"] = repr(exc)
                continue
            if response.status_code >= 500:
                failed[f"{method} {route.path}"] = response.text[:120]
    assert not failed, failed
