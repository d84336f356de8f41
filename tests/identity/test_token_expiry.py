"""API tokens may expire, and web sessions do: an expired token is refused, saying so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, create_user, recent_tokens
from modelsteward.store.tables import Token


def _age(steward: Steward, name: str, by: timedelta) -> None:
    """Move the expiry of the tokens named ``name`` earlier, as time passing would."""
    with steward.db.write() as session:
        for token in session.scalars(select(Token).where(Token.name == name)):
            assert token.expires_at is not None
            session.execute(
                update(Token).where(Token.id == token.id).values(expires_at=token.expires_at - by)
            )
    recent_tokens.forget_all()


def test_a_token_issued_with_an_expiry_is_refused_once_it_expired(
    steward: Steward, server: str
) -> None:
    env = {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    create_user(steward, SYSTEM, "app1", "viewer")
    issued = steward_cli("users", "token", "app1", "--label", "short", "--expires", "30d", env=env)
    assert issued.returncode == 0, issued.stderr
    headers = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    assert httpx.get(server + "/api/v1/whoami", headers=headers).status_code == 200
    with steward.db.read() as session:
        token = session.scalar(select(Token).where(Token.name == "short"))
        assert token is not None and token.expires_at is not None
        left = token.expires_at.replace(tzinfo=UTC) - datetime.now(UTC)
        assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
    _age(steward, "short", timedelta(days=31))
    refused = httpx.get(server + "/api/v1/whoami", headers=headers)
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]


def test_a_token_without_expiry_stays_valid(steward: Steward, server: str) -> None:
    env = {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    create_user(steward, SYSTEM, "app2", "viewer")
    issued = steward_cli("users", "token", "app2", env=env)
    with steward.db.read() as session:
        assert session.scalar(select(Token.expires_at).where(Token.name == "cli")) is None
    headers = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    assert httpx.get(server + "/api/v1/whoami", headers=headers).status_code == 200


def test_a_bad_expiry_is_a_one_line_error(steward: Steward, server: str) -> None:
    env = {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    out = steward_cli("users", "token", "admin", "--expires", "soon", env=env)
    assert out.returncode != 0 and "not a duration" in out.stderr


def test_a_web_session_has_a_lifetime(steward: Steward, server: str) -> None:
    create_user(steward, SYSTEM, "ana", "viewer", "a long passphrase")
    with httpx.Client(base_url=server, follow_redirects=False) as browser:
        browser.get("/login")
        response = browser.post(
            "/login",
            data={"username": "ana", "password": "a long passphrase", "next": "/"},
            headers={"origin": server},
        )
        assert response.status_code == 303, response.text
        cookie = response.headers["set-cookie"].lower()
        assert "max-age=43200" in cookie
        assert browser.get("/").status_code == 200
        _age(steward, "web-session", timedelta(hours=13))
        assert browser.get("/").status_code == 303  # back to the sign-in page
