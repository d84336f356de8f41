"""The audit trail's periodic job: a signed checkpoint of the chain's head."""

from __future__ import annotations

from modelsteward.audit import checkpoints
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.jobs import Job


def checkpoint(steward: Steward) -> int:
    """1 when a new checkpoint was kept, 0 when the head had not moved since the last."""
    with steward.db.read() as session:
        before = checkpoints.latest(session)
    taken = checkpoints.take(steward, only_if_moved=True)
    return int(before is None or (before.seq, before.hash) != (taken.seq, taken.hash))


def every_checkpoint_period(settings: Settings) -> float:
    """``STEWARD_AUDIT_CHECKPOINT_MINUTES`` (0 switches the job off)."""
    return settings.audit_checkpoint_minutes * 60


AUDIT_CHECKPOINT = Job(
    name="audit.checkpoint",
    description="Signs and keeps the audit chain's head, so deleting its last records is found.",
    run=checkpoint,
    interval_s=every_checkpoint_period,
)
