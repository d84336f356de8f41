"""Signed checkpoints of the audit chain's head, so that truncation is found.

The hash chain finds an edited, reordered or missing record in the middle, but not the
last records deleted: what is left is still a valid chain. A checkpoint states, signed
with this instance's Ed25519 key, that the chain held ``seq`` records ending in ``hash``;
``verify`` then refuses a chain that is shorter, or ends elsewhere at ``seq``. Whoever can
also delete the checkpoints defeats this, so ``--expect-head`` checks the head against a
value kept outside the database. Taking a checkpoint writes no audit record: it changes
nothing, and a record per checkpoint would move the head it attests.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.audit import signing
from modelsteward.audit.chain import chain_head
from modelsteward.context import Steward
from modelsteward.store.tables import AuditCheckpoint, AuditEvent, as_utc


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime


def _statement(seq: int, head: str, at: datetime) -> bytes:
    return f"modelsteward audit checkpoint\n{seq}\n{head}\n{at.isoformat()}".encode()


def latest(session: Session) -> AuditCheckpoint | None:
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))


def take(steward: Steward, *, only_if_moved: bool = False) -> Checkpoint:
    """Sign and keep the chain's current head; with ``only_if_moved``, keep nothing when
    the latest checkpoint already states it (the periodic job)."""
    with steward.db.write() as session:
        seq, head = chain_head(session)
        last = latest(session)
        if only_if_moved and last is not None and (last.seq, last.hash) == (seq, head):
            return Checkpoint(last.seq, last.hash, as_utc(last.at))
        at = datetime.now(UTC)
        signature = signing.sign(steward.settings, _statement(seq, head, at))
        session.add(
            AuditCheckpoint(
                seq=seq,
                hash=head,
                at=at,
                public_key=signing.public_key_text(steward.settings),
                signature=base64.b64encode(signature).decode(),
            )
        )
    return Checkpoint(seq, head, at)


def check(steward: Steward, session: Session) -> tuple[Checkpoint | None, str]:
    """The latest checkpoint, and why the chain disagrees with it ("" when it agrees)."""
    row = latest(session)
    if row is None:
        return None, ""
    point = Checkpoint(row.seq, row.hash, as_utc(row.at))
    try:
        signature = base64.b64decode(row.signature, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    signed = signing.verify(row.public_key, _statement(row.seq, row.hash, point.at), signature)
    if not signed or signing.trusted_key_name(steward, row.public_key) is None:
        return point, f"checkpoint at record {row.seq} does not carry a trusted signature"
    if row.seq == 0:
        return point, ""
    found = session.get(AuditEvent, row.seq)
    if found is None:
        return point, (
            f"records were deleted: a checkpoint of {point.at.isoformat()} saw "
            f"{row.seq} records, ending in {row.hash}"
        )
    if found.hash != row.hash:
        return point, f"record {row.seq} differs from the one the checkpoint saw"
    return point, ""
