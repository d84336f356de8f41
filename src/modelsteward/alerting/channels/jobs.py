"""The delivery job: sends what is due (grouped batches, retries, interrupted sends).

The subscriber sends a notification without group wait at once; this job, every half
second wherever background work runs, sends batches whose group wait has passed,
retries whose back-off is over, and batches whose sending process died (its claim ran
out). Claims make it safe to run in any number of processes.
"""

from __future__ import annotations

from modelsteward.alerting.channels.delivery import deliver_due
from modelsteward.config import Settings
from modelsteward.jobs import Job

INTERVAL_S = 0.5


def _interval(_: Settings) -> float:
    return INTERVAL_S


DELIVERY = Job(
    name="notifications.delivery",
    description="Sends due notifications: grouped batches, retries, interrupted sends.",
    run=deliver_due,
    interval_s=_interval,
)
