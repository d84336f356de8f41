"""The append-only, hash-chained audit trail.

Each record's hash covers its canonical JSON and the previous record's hash, so any
edit, deletion or reordering breaks the chain and ``steward fsck`` reports where.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from modelsteward.store.tables import AuditEvent

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 7_311_996_022


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    at = event.at.astimezone(UTC) if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    return {
        "seq": event.seq,
        "at": at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
    }


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent:
    """Append one record inside the caller's transaction (serialised per database)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    prev_seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
    event = AuditEvent(
        seq=prev_seq + 1,
        at=datetime.now(UTC),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=json.loads(canonical_json(before)) if before is not None else None,
        after=json.loads(canonical_json(after)) if after is not None else None,
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = record_hash(prev_hash, _fields(event))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(session: Session, batch: int = 5_000) -> ChainReport:
    """Recompute every hash in order; report the first record that does not match."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return ChainReport(checked, None)
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(checked, expected_seq, "record missing")
            if event.prev_hash != prev_hash:
                return ChainReport(checked, event.seq, "previous hash does not match")
            if record_hash(prev_hash, _fields(event)) != event.hash:
                return ChainReport(checked, event.seq, "record content was altered")
            prev_hash, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
            checked += 1
