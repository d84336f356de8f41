"""Scheduled retraining: a pipeline whose cron schedule fell due, or whose deployment got
enough new labels, requests a run.

Each pipeline row keeps ``next_run_at``; the ``training.runs`` job moves it to the next
due time with a compare-and-set, so with several replicas exactly one requests the run,
and a restart loses nothing (the due time is in the database). A schedule missed while
no process ran fires once, not once per missed slot. The cause names the slot
(``schedule 0 3 * * * at 2026-12-08T03:00:00+00:00``), so each slot is one run. A
production-data pipeline with ``retrain_after_new_rows`` is checked once a minute per
process; the count starts again from each run it requests.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from modelsteward.errors import StewardError
from modelsteward.store.tables import as_utc
from modelsteward.training.cron import parse_cron
from modelsteward.training.data import labelled_since
from modelsteward.training.runs import request_run
from modelsteward.training.specs import ProductionData
from modelsteward.training.tables import Pipeline, Run

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


LABEL_CHECK_S = 60.0
_last_label_check: dict[int, float] = {}


def request_on_new_labels(steward: Steward, *, force: bool = False) -> int:
    """Request a run for each production-data pipeline whose deployment got at least
    ``retrain_after_new_rows`` labels since its last run (checked once a minute each)."""
    with steward.db.read() as session:
        pipelines = session.execute(
            select(Pipeline.id, Pipeline.model, Pipeline.spec, Pipeline.created_at)
        ).all()
    requested = 0
    for pipeline_id, model, spec, created_at in pipelines:
        data = spec.get("data", {})
        wanted = data.get("retrain_after_new_rows") if data.get("kind") == "production" else None
        clock = time.monotonic()
        if not wanted or (
            not force and clock - _last_label_check.get(pipeline_id, -LABEL_CHECK_S) < LABEL_CHECK_S
        ):
            continue
        _last_label_check[pipeline_id] = clock
        since = _last_run_at(steward, pipeline_id) or as_utc(created_at)
        arrived = labelled_since(steward, ProductionData.model_validate(data), since)
        if arrived < wanted:
            continue
        try:
            request_run(
                steward,
                ACTOR,
                model,
                cause=f"{arrived} new labelled rows since {since.isoformat()}",
            )
            requested += 1
        except StewardError as exc:
            _log.warning("run of %s on new labels not started: %s", model, exc.message)
    return requested


def _last_run_at(steward: Steward, pipeline_id: int) -> datetime | None:
    with steward.db.read() as session:
        found = session.scalar(
            select(func.max(Run.created_at)).where(Run.pipeline_id == pipeline_id)
        )
    return None if found is None else as_utc(found)
