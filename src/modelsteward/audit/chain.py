"""The append-only, hash-chained audit trail.

Each record's hash covers its canonical JSON and the previous record's hash, so any
edit, deletion or reordering breaks the chain and ``steward fsck`` reports where.
Deleting the last records leaves a valid, shorter chain: ``audit.checkpoints`` finds that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select, text
from sqlalchemy.orm import Session

from modelsteward.store.tables import AuditEvent, as_utc

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK = 7_311_996_022
_AUDIT = cast(Table, AuditEvent.__table__)
_CHAIN_END = select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1)
_APPEND = _AUDIT.insert()
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_JSON_SCALARS = (str, int, float, bool, type(None))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def record_fields(event: AuditEvent) -> dict[str, Any]:
    """What a stored record's hash covers, as ``append`` hashed it."""
    at = as_utc(event.at)
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


def is_plain_json(value: Any) -> bool:
    """True when ``value`` is made only of dicts with str keys, lists and JSON scalars.

    Such a value reads back from a JSON column exactly as it was written, so it can be
    hashed and stored as it is; anything else (datetimes, tuples, int keys) is first
    normalised through its canonical JSON.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, inner in item.items():
                if type(key) is not str:
                    return False
                stack.append(inner)
        elif kind is list:
            stack.extend(item)
        elif kind not in _JSON_SCALARS:
            return False
    return True


def _as_stored(value: dict[str, Any] | None) -> Any:
    """The document as a JSON column gives it back (what verification will hash)."""
    if value is None or is_plain_json(value):
        return value
    return json.loads(canonical_json(value))


@dataclass(frozen=True)
class AuditRecord:
    """Where a record landed in the chain."""

    seq: int
    hash: str


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditRecord:
    """Append one record inside the caller's transaction (serialised per database).

    SQLite write transactions start with ``BEGIN IMMEDIATE``, so one writer at a time
    reads the chain's end; PostgreSQL takes a transaction-scoped advisory lock first.
    The hash is computed exactly as ``verify_chain`` recomputes it from the stored row.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_LOCK, {"k": _PG_AUDIT_LOCK})
    last = conn.execute(_CHAIN_END).first()
    prev_seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
    at = datetime.now(UTC)
    fields = {
        "seq": prev_seq + 1,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": _as_stored(before),
        "after": _as_stored(after),
    }
    digest = record_hash(prev_hash, fields)
    conn.execute(
        _APPEND,
        {
            **fields,
            "at": at,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    return AuditRecord(fields["seq"], digest)


def chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the chain's last record; (0, genesis) for an empty chain."""
    last = session.execute(_CHAIN_END).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    reason: str = ""
    head_hash: str = GENESIS_HASH  # the last record's hash, once the whole chain verified

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
            return ChainReport(checked, None, head_hash=prev_hash)
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(checked, expected_seq, "record missing")
            if event.prev_hash != prev_hash:
                return ChainReport(checked, event.seq, "previous hash does not match")
            if record_hash(prev_hash, record_fields(event)) != event.hash:
                return ChainReport(checked, event.seq, "record content was altered")
            prev_hash, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
            checked += 1
