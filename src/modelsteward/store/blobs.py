"""Which artifact-store blobs the database knows about (for fsck and garbage collection)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modelsteward.store.tables import Blob


def remember_blob(session: Session, sha256: str, size: int) -> None:
    """Insert the blob row unless another transaction already did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Blob).values(sha256=sha256, size=size).on_conflict_do_nothing())
