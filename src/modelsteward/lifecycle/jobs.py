"""The life cycle's periodic job: due timers (re-validation, escalation, deadlines)."""

from __future__ import annotations

from modelsteward.jobs import Job
from modelsteward.lifecycle.timers import fire_due_timers

TIMERS = Job(
    name="lifecycle.timers",
    description="Fires the life cycle timers that are due (each claimed once).",
    run=fire_due_timers,
)
