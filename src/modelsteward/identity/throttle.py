"""Sign-in throttling: too many failures lock an account, or a client address, for a while.

Each attempt is counted *before* its password is checked, in one transaction on the
``login_throttles`` row, so concurrent guesses cannot all slip in before the first is
recorded, and every replica shares the count. After ``STEWARD_LOGIN_MAX_FAILURES``
failures of an account (``STEWARD_LOGIN_ADDRESS_MAX_FAILURES`` from one address) within
``STEWARD_LOGIN_WINDOW_SECONDS``, attempts are refused with ``TooManyRequests`` for
``STEWARD_LOGIN_LOCKOUT_SECONDS``, doubling with each lockout up to
``STEWARD_LOGIN_MAX_LOCKOUT_SECONDS``. A locked attempt never reaches the password
check, so it tells nothing about the password.

A success clears its account's count, and takes back its own attempt from the
address's count, but does not clear the address: an attacker with an account of their
own could otherwise sign in between guesses at other accounts to reset it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.errors import TooManyRequests, Unauthorized
from modelsteward.identity.users import Principal, authenticate_password, authenticate_token
from modelsteward.store.tables import LoginThrottle, as_utc

log = logging.getLogger("modelsteward.identity")

_ROWS = cast(Table, LoginThrottle.__table__)
_KEY_CHARS = 200


def account_key(name: str) -> str:
    return f"account:{name[:_KEY_CHARS]}"


def address_key(address: str) -> str:
    return f"address:{address[:_KEY_CHARS]}"


def sign_in_with_password(steward: Steward, name: str, password: str, address: str) -> Principal:
    """``authenticate_password``, counted against the account and the client address."""
    keys = {account_key(name): "account", address_key(address): "address"}
    return _counted(steward, keys, lambda: authenticate_password(steward, name, password), name)


def sign_in_with_token(steward: Steward, token: str, address: str) -> Principal:
    """``authenticate_token`` from the sign-in form, counted against the client address."""
    keys = {address_key(address): "address"}
    return _counted(steward, keys, lambda: authenticate_token(steward, token), None)


def _counted(
    steward: Steward,
    keys: dict[str, str],
    check: Callable[[], Principal],
    account: str | None,
) -> Principal:
    _admit(steward, keys, account)
    try:
        principal = check()
    except Unauthorized:
        _failed(steward, keys, account)
        raise
    with steward.db.transaction() as conn:
        for key, kind in keys.items():
            if kind == "account":
                conn.execute(delete(_ROWS).where(_ROWS.c.key == key))
            else:
                conn.execute(
                    update(_ROWS)
                    .where(_ROWS.c.key == key, _ROWS.c.failures > 0)
                    .values(failures=_ROWS.c.failures - 1)
                )
    return principal


def _limit(settings: Settings, kind: str) -> int:
    if kind == "account":
        return settings.login_max_failures
    return settings.login_address_max_failures


def _lockout_s(settings: Settings, lockouts: int) -> float:
    return min(settings.login_lockout_s * 2 ** max(lockouts - 1, 0), settings.login_max_lockout_s)


def _admit(steward: Steward, keys: dict[str, str], account: str | None) -> None:
    """Count this attempt, or refuse it while a key is locked or already at its limit."""
    settings, now = steward.settings, datetime.now(UTC)
    with steward.db.transaction() as conn:
        conn.execute(
            delete(_ROWS).where(
                _ROWS.c.updated_at
                < now - timedelta(seconds=settings.login_window_s + settings.login_max_lockout_s)
            )
        )
        waits: list[float] = []
        window = timedelta(seconds=settings.login_window_s)
        rows = {key: _row(conn, key, now) for key in sorted(keys)}
        for key, row in rows.items():
            locked_until = as_utc(row.locked_until) if row.locked_until is not None else None
            in_window = as_utc(row.window_started_at) + window > now
            if locked_until is not None and locked_until > now:
                waits.append((locked_until - now).total_seconds())
            elif in_window and row.failures >= _limit(settings, keys[key]):
                # The last attempts are still being checked (or their process died, which
                # the window's end forgives): none more until they are decided.
                waits.append(_lockout_s(settings, row.lockouts + 1))
        if waits:
            wait_s = max(1, math.ceil(max(waits)))
            log.warning(
                "sign-in refused while locked: account %r from %s, %d s left",
                account,
                _address_of(keys),
                wait_s,
            )
            raise TooManyRequests(
                f"Too many failed sign-ins. Try again in {wait_s} seconds.",
                retry_after_s=wait_s,
            )
        for key, row in rows.items():
            values: dict[str, object] = {"failures": row.failures + 1, "updated_at": now}
            if as_utc(row.window_started_at) + window <= now:  # a new window
                values |= {"failures": 1, "window_started_at": now}
                if row.locked_until is None or as_utc(row.locked_until) + window <= now:
                    values["lockouts"] = 0
            conn.execute(update(_ROWS).where(_ROWS.c.key == key).values(**values))


def _failed(steward: Steward, keys: dict[str, str], account: str | None) -> None:
    """The attempt was wrong: lock each key that has now reached its limit."""
    settings, now = steward.settings, datetime.now(UTC)
    log.warning("sign-in failed: account %r from %s", account, _address_of(keys))
    with steward.db.transaction() as conn:
        for key in sorted(keys):
            row = _row(conn, key, now)
            if row.failures < _limit(settings, keys[key]):
                continue
            lockout_s = _lockout_s(settings, row.lockouts + 1)
            conn.execute(
                update(_ROWS)
                .where(_ROWS.c.key == key)
                .values(
                    failures=0,
                    window_started_at=now,
                    lockouts=row.lockouts + 1,
                    locked_until=now + timedelta(seconds=lockout_s),
                    updated_at=now,
                )
            )
            log.warning("sign-in locked for %d s: %s", math.ceil(lockout_s), key)


_INSERT_NEW = {
    "postgresql": postgresql.insert(_ROWS).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_ROWS).on_conflict_do_nothing(),
}


def _row(conn: Connection, key: str, now: datetime) -> LoginThrottle:
    """The key's row, created when missing, locked for this transaction on PostgreSQL
    (SQLite's write transactions are serial already)."""
    conn.execute(
        _INSERT_NEW[conn.dialect.name],
        {"key": key, "failures": 0, "window_started_at": now, "lockouts": 0, "updated_at": now},
    )
    row = conn.execute(select(_ROWS).where(_ROWS.c.key == key).with_for_update()).one()
    return cast(LoginThrottle, row)


def _address_of(keys: dict[str, str]) -> str:
    return next((k.split(":", 1)[1] for k, kind in keys.items() if kind == "address"), "-")
