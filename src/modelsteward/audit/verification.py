"""``steward audit verify``: the chain recomputed, checked against the latest signed
checkpoint and, when given, against a head hash kept outside the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelsteward.audit import checkpoints
from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward


@dataclass(frozen=True)
class TrailReport:
    checked: int
    head_hash: str
    broken_at: int | None
    reason: str
    checkpoint: checkpoints.Checkpoint | None

    @property
    def ok(self) -> bool:
        return not self.reason

    def as_dict(self) -> dict[str, Any]:
        point = self.checkpoint
        return {
            "ok": self.ok,
            "checked": self.checked,
            "count": self.checked,
            "head_hash": self.head_hash,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "checkpoint": None
            if point is None
            else {"seq": point.seq, "hash": point.hash, "at": point.at.isoformat()},
        }


def verify_trail(steward: Steward, expect_head: str | None = None) -> TrailReport:
    with steward.db.read() as session:
        chain = verify_chain(session)
        point, disagreement = checkpoints.check(steward, session)
    if not chain.ok:
        return TrailReport(chain.checked, "", chain.broken_at, chain.reason, point)
    reason = disagreement
    if not reason and expect_head is not None and expect_head.strip().lower() != chain.head_hash:
        reason = (
            f"the chain's head is {chain.head_hash}, not the expected {expect_head.strip()[:64]}"
        )
    return TrailReport(chain.checked, chain.head_hash, None, reason, point)
