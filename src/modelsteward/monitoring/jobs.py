"""Monitoring's periodic job: the monitor runs that are due."""

from __future__ import annotations

from modelsteward.jobs import Job
from modelsteward.monitoring.runner import run_due_monitors

MONITOR_RUNS = Job(
    name="monitoring.runs",
    description="Runs every monitor whose next run is due (each claimed once).",
    run=run_due_monitors,
)
