"""Signing in and out: only from this server's own pages, and throttled, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import update
from tests.helpers import admin_token_of, own_origin, settings_for

from modelsteward.api.app import create_app
from modelsteward.api.policy import SESSION_COOKIE
from modelsteward.api.server import serve_in_thread
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, create_user
from modelsteward.store.tables import LoginThrottle
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


# Throttling: failures are counted in the database, per account and per client address.


@contextmanager
def _replica(home: Path, **env: str) -> Iterator[tuple[Steward, str]]:
    """A server on ``home``'s database; two of them are two replicas of one store."""
    steward = Steward(settings_for(home, **env))
    try:
        with serve_in_thread(steward) as url:
            yield steward, url
    finally:
        steward.close()


def _attempt(url: str, name: str, password: str) -> httpx.Response:
    form = {"username": name, "password": password, "next": "/"}
    with httpx.Client(base_url=url) as client:
        return client.post("/login", data=form, headers=own_origin(client))


def _fail(url: str, times: int, name: str = "dana") -> None:
    for _ in range(times):
        assert _attempt(url, name, "wrong guess").status_code == 401


def _unlock_now(steward: Steward) -> None:
    """Let the lockout end (as time would) without waiting for it."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    with steward.db.transaction() as conn:
        conn.execute(update(LoginThrottle).values(locked_until=past))


def test_the_right_password_after_five_wrong_ones_is_refused_with_429(
    anonymous: httpx.Client, dana: str
) -> None:
    for _ in range(5):
        assert _password_login(anonymous, "wrong", **own_origin(anonymous)).status_code == 401
    locked = _password_login(anonymous, PASSWORD, **own_origin(anonymous))
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "30"
    assert "Too many failed sign-ins. Try again in 30 seconds." in locked.text
    assert SESSION_COOKIE not in anonymous.cookies


def test_a_success_before_the_limit_starts_the_count_again(server: str, dana: str) -> None:
    _fail(server, 4)
    assert _attempt(server, "dana", PASSWORD).status_code == 303
    _fail(server, 4)
    assert _attempt(server, "dana", PASSWORD).status_code == 303


def test_each_lockout_doubles_up_to_the_bound(tmp_path: Path) -> None:
    with _replica(tmp_path / "home", STEWARD_LOGIN_MAX_LOCKOUT_SECONDS="100") as (steward, url):
        create_user(steward, SYSTEM, "dana", "viewer", password=PASSWORD)
        waits = []
        for _ in range(4):
            _fail(url, 5)
            refused = _attempt(url, "dana", PASSWORD)
            assert refused.status_code == 429
            waits.append(int(refused.headers["retry-after"]))
            _unlock_now(steward)
        assert waits == [30, 60, 100, 100]
        assert _attempt(url, "dana", PASSWORD).status_code == 303


def test_guesses_spread_over_accounts_lock_the_client_address(tmp_path: Path) -> None:
    env = {"STEWARD_LOGIN_ADDRESS_MAX_FAILURES": "6"}
    with _replica(tmp_path / "home", **env) as (steward, url):
        create_user(steward, SYSTEM, "dana", "viewer", password=PASSWORD)
        for name in ("ana", "bo", "cy", "di", "ed", "flo"):  # one guess each: no account locks
            _fail(url, 1, name)
        refused = _attempt(url, "dana", PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 30
        with httpx.Client(base_url=url) as client:
            token = client.post(
                "/login",
                data={"method": "token", "token": admin_token_of(steward), "next": "/"},
                headers=own_origin(client),
            )
        assert token.status_code == 429  # the token form shares the address's count


def test_replicas_share_the_count(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with _replica(home) as (steward, first), _replica(home) as (_, second):
        create_user(steward, SYSTEM, "dana", "viewer", password=PASSWORD)
        _fail(first, 3)
        _fail(second, 2)
        assert _attempt(first, "dana", PASSWORD).status_code == 429
        assert _attempt(second, "dana", PASSWORD).status_code == 429


def test_failed_sign_ins_are_logged_without_the_password(
    server: str, dana: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="modelsteward.identity")
    _fail(server, 5)
    messages = [r.getMessage() for r in caplog.records if r.name == "modelsteward.identity"]
    assert sum("sign-in failed: account 'dana' from 127.0.0.1" in m for m in messages) == 5
    assert any("sign-in locked for 30 s: account:dana" in m for m in messages)
    assert not any("wrong guess" in m for m in messages)


@pytest.mark.parametrize(
    ("name", "value"),
    [("STEWARD_LOGIN_MAX_FAILURES", "0"), ("STEWARD_LOGIN_ADDRESS_MAX_FAILURES", "many")],
)
def test_throttle_settings_are_checked(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})
