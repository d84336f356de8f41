"""Scheduled retraining: a pipeline whose cron schedule fell due requests a run.

Each pipeline row keeps ``next_run_at``; the ``training.runs`` job moves it to the next
due time with a compare-and-set, so with several replicas exactly one requests the run,
and a restart loses nothing (the due time is in the database). A schedule missed while
no process ran fires once, not once per missed slot. The cause names the slot
(``schedule 0 3 * * * at 2026-12-08T03:00:00+00:00``), so each slot is one run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from modelsteward.errors import StewardError
from modelsteward.store.tables import as_utc
from modelsteward.training.cron import parse_cron
from modelsteward.training.runs import request_run
from modelsteward.training.tables import Pipeline

if TYPE_CHECKING:
    from modelsteward.context import Steward

ACTOR = "schedule"
_log = logging.getLogger(__name__)


def request_due(steward: Steward, now: datetime | None = None) -> int:
    """Request a run for every pipeline whose schedule is due; returns how many."""
    now = now or datetime.now(UTC)
    with steward.db.read() as session:
        due = session.execute(
            select(Pipeline.id, Pipeline.model, Pipeline.spec, Pipeline.next_run_at).where(
                Pipeline.next_run_at.is_not(None), Pipeline.next_run_at <= now
            )
        ).all()
    requested = 0
    for pipeline_id, model, spec, slot in due:
        expression = spec.get("schedule")
        following = parse_cron(expression).next_after(now) if expression else None
        with steward.db.transaction() as conn:
            taken = conn.execute(
                update(Pipeline)
                .where(Pipeline.id == pipeline_id, Pipeline.next_run_at == slot)
                .values(next_run_at=following)
            ).rowcount
        if not taken:
            continue  # another replica took this slot
        cause = f"schedule {expression} at {as_utc(slot).isoformat()}"
        try:
            request_run(steward, ACTOR, model, cause=cause)
            requested += 1
        except StewardError as exc:  # untrusted, unreadable data: visible, next slot retries
            _log.warning("scheduled run of %s not started: %s", model, exc.message)
    return requested
