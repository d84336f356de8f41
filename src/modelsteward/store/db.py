"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing on lock upgrade.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 60_000


def make_engine(db_url: str) -> Engine:
    if db_url.startswith("sqlite"):
        return _sqlite_engine(db_url)
    return create_engine(db_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(db_url: str) -> Engine:
    path = db_url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The database holds token and password hashes: only its owner may read it.
        # SQLite gives the -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = create_engine(
        db_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode:  # None: each statement runs on its own (autocommit), see Database.query
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """Session factories for reading and for writing one metadata database."""

    def __init__(self, db_url: str) -> None:
        self.url = db_url
        self.engine = make_engine(db_url)
        self.dialect = self.engine.dialect.name
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_engine = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.dialect == "sqlite"
            else self.engine
        )
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)
        self._writer_engine = writer_engine
        self._lone_reader = (
            self.engine.execution_options(sqlite_begin=None)
            if self.dialect == "sqlite"
            else self.engine
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def query(self, *, snapshot: bool = True) -> Iterator[Connection]:
        """A connection for plain SQL reads, without an ORM session around it.

        The cheapest way to run a few SELECTs on a hot path; rolled back on return
        to the pool, so it must not be used to write. With ``snapshot=False`` SQLite
        runs each statement on its own, without BEGIN and ROLLBACK around them: for
        a single SELECT, or reads that need not agree with each other.
        """
        with (self.engine if snapshot else self._lone_reader).connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any error."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction on a plain connection: committed on success, rolled back
        on any error. Cheaper than ``write`` for code that only runs Core statements."""
        with self._writer_engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
