"""When a file on an fsspec store was last written, and marking it fresh, where the
store can do either.

fsspec file systems raise ``NotImplementedError`` for what a store lacks: ``modified``
on some HTTP-like stores, ``touch`` of an existing file on ``memory://`` and S3. Upkeep
(garbage collection, stale claims, stale temporary files) must carry on there, judging
by what the store can tell.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any


def modified_at(fs: Any, path: str) -> datetime | None:
    """``path``'s last write (UTC), or None: gone, or the store cannot tell."""
    try:
        written: datetime = fs.modified(path)
    except (NotImplementedError, OSError):  # FileNotFoundError is an OSError
        return None
    return written if written.tzinfo else written.replace(tzinfo=UTC)


def mark_fresh(fs: Any, path: str) -> None:
    """Set ``path``'s write time to now where the store can (so gc's grace restarts)."""
    with suppress(NotImplementedError, ValueError):
        fs.touch(path, truncate=False)
