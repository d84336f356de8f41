"""What people do with events: read the outbox and the deliveries, see how far each
subscriber is, and send a dead-lettered event again (an audited change)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelsteward.errors import InvalidInput
from modelsteward.events import cursors, deliveries, outbox
from modelsteward.events.catalogue import catalogue
from modelsteward.events.subscribers import SUBSCRIBERS
from modelsteward.events.tables import OutboxEvent

if TYPE_CHECKING:
    from modelsteward.context import Steward

MAX_LIMIT = 1000


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIMIT}")
    return limit


def recent_events(
    steward: Steward, name: str | None = None, limit: int = 100, before: int | None = None
) -> list[dict[str, Any]]:
    """Committed events, newest first."""
    query = select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(_limit(limit))
    if name is not None:
        query = query.where(OutboxEvent.name == name)
    if before is not None:
        query = query.where(OutboxEvent.id < before)
    with steward.db.read() as session:
        return [
            {
                "id": e.id,
                "name": e.name,
                "actor": e.actor,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "payload": e.payload,
                "at": e.at,
            }
            for e in session.scalars(query)
        ]


def list_deliveries(
    steward: Steward, state: str | None = None, subscriber: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Deliveries that did not succeed at once (pending retries, dead letters, and
    those a retry delivered), newest first."""
    with steward.db.query() as conn:
        return deliveries.listing(conn, state, subscriber, _limit(limit))


def subscriber_status(steward: Steward) -> list[dict[str, Any]]:
    """Each registered subscriber: where it runs, its position, how far behind it is."""
    with steward.db.query() as conn:
        head = outbox.head(conn)
        at = cursors.positions(conn)
        counts = deliveries.counts(conn)
    rows = []
    for sub in sorted(SUBSCRIBERS.available().values(), key=lambda s: s.name):
        position = at.get(sub.name) if sub.scope == "cluster" else None
        rows.append(
            {
                "name": sub.name,
                "description": sub.description,
                "scope": sub.scope,
                "events": sorted(sub.events),
                "position": position,
                "behind": None if position is None else max(head - position, 0),
                "pending": counts.get((sub.name, "pending"), 0),
                "failed": counts.get((sub.name, "failed"), 0),
            }
        )
    return rows


def catalogue_entries() -> list[dict[str, Any]]:
    """Every declared event with its meaning and payload schema (docs and webhooks)."""
    return [
        {
            "name": t.name,
            "meaning": t.meaning,
            "object_type": t.object_type,
            "payload": t.payload.model_json_schema(by_alias=True),
        }
        for t in sorted(catalogue().types.values(), key=lambda t: t.name)
    ]


def retry(steward: Steward, actor: str, event_id: int, subscriber: str | None = None) -> int:
    """Send a dead-lettered event again to its failed subscribers (or one); how many."""
    if subscriber is not None and subscriber not in SUBSCRIBERS.available():
        known = ", ".join(SUBSCRIBERS.names())
        raise InvalidInput(f"unknown subscriber {subscriber[:128]!r}; known: {known}")
    with steward.change(actor) as change:
        queued = deliveries.requeue(
            change.connection,
            event_id,
            None if subscriber is None else [subscriber],
            datetime.now(UTC),
        )
        change.record(
            "event.retried",
            "event",
            event_id,
            after={"subscriber": subscriber, "deliveries": queued},
        )
    return queued
