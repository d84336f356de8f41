"""Each cluster subscriber's cursor row: its position in the outbox, and a lease.

The lease is a compare-and-set on ``owner``/``lease_until``: one process at a time
delivers a subscriber's events, and when it dies another claims the cursor once the
lease has run out. Advancing is fenced by the owner, so a process that lost its lease
(it stalled past it) cannot move a cursor another process now holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from modelsteward.events.tables import EventCursor

_CURSORS = cast(Table, EventCursor.__table__)
_POSITIONS = select(_CURSORS.c.subscriber, _CURSORS.c.position)


def ensure(conn: Connection, subscriber: str, now: datetime) -> None:
    """Create the cursor at position 0 if it does not exist (a race is harmless)."""
    exists = conn.execute(
        select(_CURSORS.c.subscriber).where(_CURSORS.c.subscriber == subscriber)
    ).first()
    if exists is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    _CURSORS.insert().values(subscriber=subscriber, position=0, updated_at=now)
                )
        except IntegrityError:
            pass


def positions(conn: Connection) -> dict[str, int]:
    return {row.subscriber: int(row.position) for row in conn.execute(_POSITIONS)}


def claim(
    conn: Connection, subscriber: str, owner: str, now: datetime, lease_s: float
) -> int | None:
    """Take or renew the lease; the cursor's position, or None when another holds it."""
    taken = conn.execute(
        update(_CURSORS)
        .where(
            _CURSORS.c.subscriber == subscriber,
            or_(
                _CURSORS.c.owner.is_(None),
                _CURSORS.c.owner == owner,
                _CURSORS.c.lease_until < now,
            ),
        )
        .values(owner=owner, lease_until=now + timedelta(seconds=lease_s), updated_at=now)
    )
    if taken.rowcount != 1:
        return None
    return int(
        conn.execute(
            select(_CURSORS.c.position).where(_CURSORS.c.subscriber == subscriber)
        ).scalar_one()
    )


def advance(
    conn: Connection, subscriber: str, owner: str, position: int, now: datetime, lease_s: float
) -> bool:
    """Move the cursor to ``position`` if this owner still holds it; False if it lost it."""
    moved = conn.execute(
        update(_CURSORS)
        .where(_CURSORS.c.subscriber == subscriber, _CURSORS.c.owner == owner)
        .values(position=position, lease_until=now + timedelta(seconds=lease_s), updated_at=now)
    )
    return moved.rowcount == 1


def release(conn: Connection, owner: str) -> None:
    """Give up every lease this owner holds (a clean stop: others need not wait)."""
    conn.execute(
        update(_CURSORS).where(and_(_CURSORS.c.owner == owner)).values(owner=None, lease_until=None)
    )
