"""Tokens: accepted ones are remembered for a few seconds, revoked ones are refused at once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.helpers import settings_for, token_for

from modelsteward.context import Steward
from modelsteward.errors import Unauthorized
from modelsteward.identity.users import (
    SYSTEM,
    Principal,
    RecentTokens,
    authenticate_token,
    cached_principal,
    issue_token,
    revoke_session,
    revoke_tokens,
)


def test_a_revoked_token_is_refused_at_once_although_it_was_just_accepted(
    any_steward: Steward,
) -> None:
    token = token_for(any_steward, "viewer", "vera")
    assert authenticate_token(any_steward, token) == Principal("vera", "viewer")
    assert cached_principal(any_steward, token) == Principal("vera", "viewer")
    assert revoke_tokens(any_steward, SYSTEM, "vera") == 1
    assert cached_principal(any_steward, token) is None
    with pytest.raises(Unauthorized):
        authenticate_token(any_steward, token)


def test_a_signed_out_web_session_is_refused_at_once(steward: Steward) -> None:
    token_for(steward, "viewer", "dana")
    session = issue_token(steward, SYSTEM, "dana", "web-session")
    other = issue_token(steward, SYSTEM, "dana", "laptop")
    for token in (session, other):
        authenticate_token(steward, token)
    assert revoke_session(steward, session)
    with pytest.raises(Unauthorized):
        authenticate_token(steward, session)
    assert authenticate_token(steward, other).name == "dana"


def test_tokens_are_remembered_per_database(steward: Steward, tmp_path: Path) -> None:
    token = token_for(steward, "viewer", "vera")
    authenticate_token(steward, token)
    elsewhere = Steward(settings_for(tmp_path / "elsewhere"))
    assert cached_principal(elsewhere, token) is None
    with pytest.raises(Unauthorized):
        authenticate_token(elsewhere, token)
    elsewhere.close()


def test_unknown_tokens_are_not_remembered(steward: Steward) -> None:
    with pytest.raises(Unauthorized):
        authenticate_token(steward, "stw_guess")
    assert cached_principal(steward, "stw_guess") is None
    assert cached_principal(steward, None) is None


def test_a_remembered_token_expires() -> None:
    cache = RecentTokens(ttl=0.0)
    cache.put("db", "hash", Principal("ana", "admin"), cache.generation)
    assert cache.get("db", "hash") is None


def test_a_lookup_that_raced_a_revocation_is_not_remembered() -> None:
    cache = RecentTokens()
    started_under = cache.generation
    cache.forget_all()  # a revocation committed while the look-up ran
    cache.put("db", "hash", Principal("ana", "admin"), started_under)
    assert cache.get("db", "hash") is None
    cache.put("db", "hash", Principal("ana", "admin"), cache.generation)
    assert cache.get("db", "hash") == Principal("ana", "admin")


def test_the_cache_stays_bounded() -> None:
    cache = RecentTokens(size=8)
    for i in range(20):
        cache.put("db", f"h{i}", Principal("ana", "admin"), cache.generation)
    assert cache.get("db", "h19") is not None
    assert sum(cache.get("db", f"h{i}") is not None for i in range(20)) <= 8


def test_the_api_refuses_a_token_as_soon_as_it_is_revoked(
    api: httpx.Client, server: str, steward: Steward
) -> None:
    token = token_for(steward, "viewer", "vic")
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}) as vic:
        assert vic.get("/api/v1/models").status_code == 200
        assert vic.get("/api/v1/models").status_code == 200  # answered from memory
        assert api.delete("/api/v1/users/vic/tokens").json() == {"revoked": 1}
        refused = vic.get("/api/v1/models")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
