"""Who is asking is settled before anything the request carries is read."""

from __future__ import annotations

import re

import httpx
import pytest
from tests.helpers import token_for

from modelsteward.context import Steward

MALFORMED = b'{"name": "iris", oops'


def _json_operations(api: httpx.Client) -> list[tuple[str, str]]:
    schema = api.get("/api/v1/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    return found


def test_every_json_route_answers_401_to_a_stranger_with_a_malformed_body(
    api: httpx.Client, server: str
) -> None:
    operations = _json_operations(api)
    assert len(operations) >= 20, operations
    wrong = {}
    for method, path in operations:
        response = httpx.request(
            method, server + path, content=MALFORMED, headers={"content-type": "application/json"}
        )
        if response.status_code != 401 or response.json()["error"]["code"] != "unauthorized":
            wrong[f"{method} {path}"] = response.status_code
    assert not wrong, wrong


def test_a_caller_without_the_permission_gets_403_before_the_body_is_read(
    api: httpx.Client, server: str, steward: Steward
) -> None:
    viewer = {"Authorization": f"Bearer {token_for(steward, 'viewer')}"}
    response = httpx.post(
        server + "/api/v1/models",
        content=MALFORMED,
        headers={**viewer, "content-type": "application/json"},
    )
    assert response.status_code == 403, response.text


def test_a_malformed_body_from_an_authorised_caller_is_still_422(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/models", content=MALFORMED, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/models/churn"),
        ("GET", "/v2/models/churn/ready"),
        ("POST", "/v2/models/churn/infer"),
        ("POST", "/v2/models/churn/versions/1/infer"),
        ("GET", "/metrics"),
    ],
)
def test_v2_and_metrics_answer_401_to_api_clients_not_a_redirect(
    server: str, method: str, path: str
) -> None:
    for accept in ("application/json", "*/*", None):
        headers = {"accept": accept} if accept else {}
        response = httpx.request(
            method, server + path, headers=headers, json={"inputs": []}, follow_redirects=False
        )
        assert response.status_code == 401, (accept, response.status_code)
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_browser_asking_for_a_page_is_still_sent_to_sign_in(server: str) -> None:
    response = httpx.get(server + "/", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_flavor_list_is_not_for_the_application_role(
    api: httpx.Client, steward: Steward
) -> None:
    application = {"Authorization": f"Bearer {token_for(steward, 'application')}"}
    assert api.get("/api/v1/flavors", headers=application).status_code == 403
    viewer = {"Authorization": f"Bearer {token_for(steward, 'viewer')}"}
    assert api.get("/api/v1/flavors", headers=viewer).status_code == 200
