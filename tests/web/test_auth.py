"""Signing in and out: only from this server's own pages, over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute
from tests.helpers import own_origin

from modelsteward.api.app import create_app
from modelsteward.api.policy import SESSION_COOKIE
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, create_user
from modelsteward.web.csrf import same_origin
from modelsteward.web.errors import MACHINE_ROUTES

PASSWORD = "correct horse battery"


@pytest.fixture
def dana(steward: Steward) -> str:
    create_user(steward, SYSTEM, "dana", "viewer", password=PASSWORD)
    return "dana"


def _password_login(client: httpx.Client, password: str, **headers: str) -> httpx.Response:
    form = {"username": "dana", "password": password, "next": "/"}
    return client.post("/login", data=form, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/login"},
        {},  # neither Origin nor Referer: an old browser, or a page that suppressed both
    ],
    ids=["foreign-origin", "null-origin", "foreign-referer", "neither"],
)
def test_a_cross_site_login_post_is_refused_and_sets_no_cookie(
    anonymous: httpx.Client, dana: str, headers: dict[str, str]
) -> None:
    response = _password_login(anonymous, PASSWORD, **headers)
    assert response.status_code == 403
    assert "was not sent from a modelsteward page" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert SESSION_COOKIE not in anonymous.cookies


def test_a_login_posted_from_the_own_page_is_accepted_by_origin_or_referer(
    anonymous: httpx.Client, dana: str, server: str
) -> None:
    assert _password_login(anonymous, PASSWORD, **own_origin(anonymous)).status_code == 303
    with httpx.Client(base_url=server) as other:
        by_referer = _password_login(other, PASSWORD, Referer=f"{server}/login?next=/")
        assert by_referer.status_code == 303
        assert SESSION_COOKIE in other.cookies


def test_a_cross_site_logout_post_leaves_the_session_alone(
    browser_session: httpx.Client,
) -> None:
    refused = browser_session.post("/logout", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert browser_session.get("/").status_code == 200  # still signed in


def test_every_state_changing_page_route_checks_the_origin(steward: Steward) -> None:
    routes, posts = list(create_app(steward).routes), []
    while routes:
        route = routes.pop()
        nested = getattr(route, "original_router", None)
        routes.extend(nested.routes if nested is not None else [])
        if isinstance(route, APIRoute) and route.methods - {"GET", "HEAD", "OPTIONS"}:
            machine = any(route.path.startswith(p + "/") for p in MACHINE_ROUTES)
            if not machine:
                posts.append(route)
    assert {r.path for r in posts} >= {"/login", "/logout", "/tasks/{task_id}/decision"}
    for route in posts:
        calls = [d.call for d in route.dependant.dependencies]
        assert same_origin in calls, route.path
