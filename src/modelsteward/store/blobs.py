"""Which artifact-store blobs the database knows about (for fsck and garbage collection)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modelsteward.store.tables import Blob

_BLOBS = cast(Table, Blob.__table__)
_INSERT_NEW = {
    "postgresql": postgresql.insert(_BLOBS).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_BLOBS).on_conflict_do_nothing(),
}


def remember_blob(session: Session, sha256: str, size: int) -> None:
    """Insert the blob row unless another transaction already did."""
    remember_blobs(session.connection(), {sha256: size})


def remember_blobs(conn: Connection, sizes: dict[str, int]) -> None:
    """Insert the rows of several blobs (sha256 -> size) in one call, skipping known ones.

    Rows go in hash order, so concurrent transactions take PostgreSQL's key locks in
    the same order and cannot deadlock on each other's blobs.
    """
    if not sizes:
        return
    statement = _INSERT_NEW[conn.dialect.name]
    conn.execute(statement, [{"sha256": sha, "size": sizes[sha]} for sha in sorted(sizes)])
