"""Deliveries that did not succeed at once: retried with backoff, then dead-lettered.

A subscriber's cursor moves past an event whether or not its handler succeeded; a
failure leaves a ``pending`` row here with the next attempt's time. Events for the same
object that arrive while one waits are parked behind it (``pending``, no attempt yet),
so each object's events still reach the subscriber in commit order. After
``max_attempts`` failures the row is ``failed`` (the dead letter): visible in
``steward events list --state failed``, on ``/metrics``, and sent again by hand with
``steward events retry``. Later events of that object then go ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, update

from modelsteward.errors import InvalidInput, NotFound
from modelsteward.events.domain import DomainEvent
from modelsteward.events.tables import EventDelivery, OutboxEvent
from modelsteward.store.tables import as_utc

STATES = ("pending", "failed", "delivered")
RETRY_CAP_S = 300.0
_DELIVERIES = cast(Table, EventDelivery.__table__)
_EVENTS = cast(Table, OutboxEvent.__table__)


def backoff_s(attempts: int, base_s: float) -> float:
    """Seconds before the next attempt: doubling from ``base_s``, at most five minutes."""
    return float(min(base_s * 2 ** max(attempts - 1, 0), RETRY_CAP_S))


def blocked_objects(conn: Connection, subscriber: str) -> set[str]:
    rows = conn.execute(
        select(_DELIVERIES.c.object_key)
        .where(_DELIVERIES.c.subscriber == subscriber, _DELIVERIES.c.state == "pending")
        .distinct()
    )
    return {row[0] for row in rows}


def park(
    conn: Connection,
    subscriber: str,
    event: DomainEvent,
    *,
    state: str,
    attempts: int,
    error: str,
    next_attempt_at: datetime,
    now: datetime,
) -> None:
    conn.execute(
        _DELIVERIES.insert().values(
            subscriber=subscriber,
            event_id=event.id,
            object_key=event.object_key,
            state=state,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_error=error[:4000],
            created_at=now,
            updated_at=now,
        )
    )


def due(conn: Connection, subscriber: str, now: datetime, limit: int = 200) -> list[Any]:
    """The first waiting delivery of each object, when its attempt is due, in event order."""
    rows = conn.execute(
        select(_DELIVERIES)
        .where(_DELIVERIES.c.subscriber == subscriber, _DELIVERIES.c.state == "pending")
        .order_by(_DELIVERIES.c.event_id)
        .limit(limit * 10)
    ).all()
    seen: set[str] = set()
    first: list[Any] = []
    for row in rows:
        if row.object_key in seen:
            continue
        seen.add(row.object_key)
        if as_utc(row.next_attempt_at) <= now:
            first.append(row)
    return first[:limit]


def settle(
    conn: Connection,
    delivery_id: int,
    *,
    state: str,
    attempts: int,
    error: str,
    next_attempt_at: datetime,
    now: datetime,
) -> None:
    conn.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id == delivery_id)
        .values(
            state=state,
            attempts=attempts,
            last_error=error[:4000],
            next_attempt_at=next_attempt_at,
            updated_at=now,
        )
    )


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """(subscriber, state) -> how many deliveries; for ``/metrics``."""
    rows = conn.execute(
        select(_DELIVERIES.c.subscriber, _DELIVERIES.c.state, func.count()).group_by(
            _DELIVERIES.c.subscriber, _DELIVERIES.c.state
        )
    )
    return {(row[0], row[1]): int(row[2]) for row in rows}


def listing(
    conn: Connection, state: str | None, subscriber: str | None, limit: int
) -> list[dict[str, Any]]:
    """Deliveries (newest first) with the event they carry."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"unknown delivery state {state[:32]!r}; use one of {', '.join(STATES)}")
    query = (
        select(
            _DELIVERIES, _EVENTS.c.name, _EVENTS.c.object_type, _EVENTS.c.object_id, _EVENTS.c.at
        )
        .join(_EVENTS, _EVENTS.c.id == _DELIVERIES.c.event_id)
        .order_by(_DELIVERIES.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(_DELIVERIES.c.state == state)
    if subscriber is not None:
        query = query.where(_DELIVERIES.c.subscriber == subscriber)
    return [
        {
            "id": row.id,
            "event_id": row.event_id,
            "event": row.name,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "event_at": as_utc(row.at),
            "subscriber": row.subscriber,
            "state": row.state,
            "attempts": row.attempts,
            "next_attempt_at": as_utc(row.next_attempt_at),
            "last_error": row.last_error,
            "updated_at": as_utc(row.updated_at),
        }
        for row in conn.execute(query)
    ]


def requeue(
    conn: Connection, event_id: int, subscribers: Iterable[str] | None, now: datetime
) -> int:
    """Send a dead-lettered event again; how many deliveries were queued."""
    query = update(_DELIVERIES).where(
        _DELIVERIES.c.event_id == event_id, _DELIVERIES.c.state == "failed"
    )
    if subscribers is not None:
        query = query.where(_DELIVERIES.c.subscriber.in_(list(subscribers)))
    queued = conn.execute(query.values(state="pending", next_attempt_at=now, updated_at=now))
    if queued.rowcount == 0:
        known = conn.execute(select(_EVENTS.c.id).where(_EVENTS.c.id == event_id)).first()
        if known is None:
            raise NotFound(f"no event {event_id}")
        raise InvalidInput(f"event {event_id} has no failed delivery to retry")
    return int(queued.rowcount)
