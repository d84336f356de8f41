"""Sign-in throttling, against SQLite and PostgreSQL: the count lives in the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from modelsteward.context import Steward
from modelsteward.errors import TooManyRequests, Unauthorized
from modelsteward.identity.throttle import account_key, sign_in_with_password
from modelsteward.identity.users import SYSTEM, create_user
from modelsteward.store.tables import LoginThrottle

PASSWORD = "correct horse battery"


def _try(steward: Steward, password: str, address: str = "192.0.2.7") -> str:
    try:
        sign_in_with_password(steward, "dana", password, address)
    except Unauthorized:
        return "wrong"
    except TooManyRequests:
        return "locked"
    return "signed in"


def test_concurrent_guesses_cannot_slip_past_the_limit(any_steward: Steward) -> None:
    """Each attempt is counted before its password is checked, so 12 guesses at once
    get at most five password checks."""
    create_user(any_steward, SYSTEM, "dana", "viewer", password=PASSWORD)
    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(lambda _: _try(any_steward, "guess"), range(12)))
    assert outcomes.count("wrong") == 5 and outcomes.count("locked") == 7
    assert _try(any_steward, PASSWORD) == "locked"


def test_the_address_count_is_shared_by_accounts_and_a_success_is_taken_back(
    any_steward: Steward,
) -> None:
    create_user(any_steward, SYSTEM, "dana", "viewer", password=PASSWORD)
    assert [_try(any_steward, "guess") for _ in range(4)] == ["wrong"] * 4
    assert _try(any_steward, PASSWORD) == "signed in"
    with any_steward.db.query() as conn:
        rows = dict(conn.execute(select(LoginThrottle.key, LoginThrottle.failures)).all())
    assert rows == {
        "address:192.0.2.7": 4
    }  # the account's count is gone; the address keeps its own


def test_rows_of_long_quiet_keys_are_removed(any_steward: Steward) -> None:
    create_user(any_steward, SYSTEM, "dana", "viewer", password=PASSWORD)
    for name in ("ghost-1", "ghost-2"):
        with pytest.raises(Unauthorized):
            sign_in_with_password(any_steward, name, "guess", "198.51.100.1")
    settings = any_steward.settings
    old = datetime.now(UTC) - timedelta(
        seconds=settings.login_window_s + settings.login_max_lockout_s + 1
    )
    with any_steward.db.transaction() as conn:
        conn.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == account_key("ghost-1"))
            .values(updated_at=old)
        )
    _try(any_steward, PASSWORD)
    with any_steward.db.query() as conn:
        keys = set(conn.execute(select(LoginThrottle.key)).scalars())
        assert conn.execute(select(func.count()).select_from(LoginThrottle)).scalar() == 3
    assert account_key("ghost-1") not in keys and account_key("ghost-2") in keys


def test_attempts_counted_by_a_process_that_died_are_forgiven_when_the_window_ends(
    any_steward: Steward,
) -> None:
    """Counted before the check, an attempt whose process was killed never becomes a
    failure or a success; the count it left holds only until its window ends."""
    create_user(any_steward, SYSTEM, "dana", "viewer", password=PASSWORD)
    row = {"key": account_key("dana"), "failures": 5, "lockouts": 0, "locked_until": None}
    now = datetime.now(UTC)
    with any_steward.db.transaction() as conn:
        conn.execute(insert(LoginThrottle).values(**row, window_started_at=now, updated_at=now))
    assert _try(any_steward, PASSWORD) == "locked"
    started = now - timedelta(seconds=any_steward.settings.login_window_s + 1)
    with any_steward.db.transaction() as conn:
        conn.execute(update(LoginThrottle).values(window_started_at=started))
    assert _try(any_steward, PASSWORD) == "signed in"
