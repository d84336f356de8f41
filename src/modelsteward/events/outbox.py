"""The transactional outbox: a change's events are rows written in its own transaction.

Why a table of its own rather than the audit trail: an event's payload is what its
subscribers need (often more than the audit record's before/after), events can be
pruned on their own clock while the audit chain is kept forever, and the chain stays a
pure compliance record. Both are written in the same transaction, so there is never
a record without its event nor an event without its record.

Ids are positions in commit order: every change that records anything appends to the
audit chain first, which serialises writers (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock held to commit on PostgreSQL), and the outbox rows are inserted after
that, so a later id never commits before an earlier one. A subscriber's cursor is
therefore one number. On PostgreSQL the change also sends ``NOTIFY`` on ``CHANNEL``,
delivered at commit, which wakes every listening dispatcher at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, select, text

from modelsteward.audit.chain import canonical_json, is_plain_json
from modelsteward.events.domain import DomainEvent
from modelsteward.events.tables import OutboxEvent
from modelsteward.store.tables import as_utc

CHANNEL = "steward_events"
_EVENTS = cast(Table, OutboxEvent.__table__)
_INSERT = _EVENTS.insert()
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")
_HEAD = select(func.coalesce(func.max(_EVENTS.c.id), 0))
_COLUMNS = (
    _EVENTS.c.id,
    _EVENTS.c.name,
    _EVENTS.c.actor,
    _EVENTS.c.object_type,
    _EVENTS.c.object_id,
    _EVENTS.c.payload,
    _EVENTS.c.at,
)
_AFTER = (
    select(*_COLUMNS)
    .where(_EVENTS.c.id > bindparam("after"))
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
)
_NAMED_AFTER = (
    select(*_COLUMNS)
    .where(
        _EVENTS.c.id > bindparam("after"), _EVENTS.c.name.in_(bindparam("names", expanding=True))
    )
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
)
_BY_IDS = select(*_COLUMNS).where(_EVENTS.c.id.in_(bindparam("ids", expanding=True)))


def write(conn: Connection, events: Sequence[DomainEvent]) -> None:
    """Insert ``events`` in the caller's transaction (after its audit records)."""
    if not events:
        return
    conn.execute(
        _INSERT,
        [
            {
                "name": e.name,
                "actor": e.actor,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "payload": e.payload if is_plain_json(e.payload) else _normalised(e.payload),
                "at": e.at,
            }
            for e in events
        ],
    )
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY)


def _normalised(payload: dict[str, Any]) -> Any:
    """Datetimes, tuples and the like as the JSON column will give them back."""
    return json.loads(canonical_json(payload))


def head(conn: Connection) -> int:
    """The id of the last committed event (0 when there is none)."""
    return int(conn.execute(_HEAD).scalar_one())


def read_after(
    conn: Connection, after: int, names: Iterable[str] | None = None, limit: int = 500
) -> list[DomainEvent]:
    """Committed events after position ``after``, in order; only ``names`` if given."""
    if names is None:
        rows = conn.execute(_AFTER, {"after": after, "limit": limit})
    else:
        rows = conn.execute(_NAMED_AFTER, {"after": after, "names": list(names), "limit": limit})
    return [_event(row) for row in rows]


def read_ids(conn: Connection, ids: Iterable[int]) -> dict[int, DomainEvent]:
    return {row.id: _event(row) for row in conn.execute(_BY_IDS, {"ids": list(ids)})}


def _event(row: Any) -> DomainEvent:
    at: datetime = as_utc(row.at)
    return DomainEvent(
        name=row.name,
        actor=row.actor,
        object_type=row.object_type,
        object_id=row.object_id,
        payload=row.payload or {},
        at=at,
        id=row.id,
    )
