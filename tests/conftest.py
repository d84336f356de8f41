"""Shared fixtures: real databases (SQLite and PostgreSQL), a real server on 127.0.0.1.

PostgreSQL comes from ``STEWARD_TEST_PG_URL`` (``make test`` sets it, starting a
throwaway server when none answers); each test gets its own database, dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.helpers import admin_token_of, follow_no_lifecycle, settings_for

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin

BACKENDS = ["sqlite", "postgresql"]


def pg_admin_url() -> str | None:
    url = os.environ.get("STEWARD_TEST_PG_URL")
    if url:
        return url
    if os.environ.get("CI"):
        return None
    return None


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = pg_admin_url()
    if not url:
        if os.environ.get("CI"):
            pytest.fail("STEWARD_TEST_PG_URL is not set; run the suite with 'make test'")
        pytest.skip("no PostgreSQL for tests: run 'make test' or set STEWARD_TEST_PG_URL")
    return url


@pytest.fixture
def pg_database(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def steward(tmp_path: Path) -> Iterator[Steward]:
    """An embedded-default instance (SQLite) in a temporary STEWARD_HOME."""
    instance = Steward(settings_for(tmp_path / "home"))
    ensure_bootstrap_admin(instance)
    yield instance
    instance.close()


@pytest.fixture(params=BACKENDS)
def any_steward(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Steward]:
    """The same test against SQLite and against PostgreSQL (the store contract)."""
    db_url = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    instance = Steward(settings_for(tmp_path / "home", db_url))
    ensure_bootstrap_admin(instance)
    yield instance
    instance.close()


@pytest.fixture
def ungoverned(request: pytest.FixtureRequest) -> Steward:
    """The test's ``steward`` (or ``any_steward``) whose models follow no life cycle, so
    deployments are not gated: for tests of serving and monitoring themselves."""
    name = "any_steward" if "any_steward" in request.fixturenames else "steward"
    return follow_no_lifecycle(request.getfixturevalue(name))


@pytest.fixture
def server(steward: Steward) -> Iterator[str]:
    with serve_in_thread(steward) as url:
        yield url


@pytest.fixture
def api(steward: Steward, server: str) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as the bootstrap admin, against a live server."""
    headers = {"Authorization": f"Bearer {admin_token_of(steward)}"}
    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def any_server(any_steward: Steward) -> Iterator[str]:
    with serve_in_thread(any_steward) as url:
        yield url


@pytest.fixture
def any_api(any_steward: Steward, any_server: str) -> Iterator[httpx.Client]:
    """Like ``api``, once on SQLite and once on PostgreSQL."""
    headers = {"Authorization": f"Bearer {admin_token_of(any_steward)}"}
    with httpx.Client(base_url=any_server, headers=headers, timeout=60) as client:
        yield client
