"""Serving's periodic job: compacting the prediction log's closed hours."""

from __future__ import annotations

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.jobs import Job
from modelsteward.serving.compaction import scheduled_compaction


def compact(steward: Steward) -> int:
    settings = steward.settings
    return scheduled_compaction(settings.logs_url, settings.log_compact_grace_minutes)


def every_compaction_period(settings: Settings) -> float:
    """``STEWARD_LOG_COMPACT_MINUTES`` (0 switches compaction off)."""
    return settings.log_compact_minutes * 60


LOG_COMPACTION = Job(
    name="serving.log-compaction",
    description="Merges each closed hour of the prediction log into one sorted file.",
    run=compact,
    interval_s=every_compaction_period,
)
