"""The ``training.runs`` job: fail abandoned runs, request scheduled ones, start queued ones.

Every half second wherever background work runs: runs whose lease ran out are marked
failed, pipelines whose cron schedule fell due request a run, and queued runs are
claimed (compare-and-set, so one process takes each) and trained in a thread of this
process, at most ``MAX_CONCURRENT`` at a time here.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from modelsteward.config import Settings
from modelsteward.jobs import Job
from modelsteward.training.execution import claim, execute, queued, reap_abandoned
from modelsteward.training.schedules import request_due, request_on_new_labels

if TYPE_CHECKING:
    from modelsteward.context import Steward

INTERVAL_S = 0.5
MAX_CONCURRENT = 2
_ACTIVE: dict[int, threading.Thread] = {}
_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


def _execute(steward: Steward, run_id: int) -> None:
    try:
        execute(steward, run_id)
    except Exception:  # recorded by the reaper once the lease runs out
        _log.exception("training run %s could not be recorded", run_id)
    finally:
        with _LOCK:
            _ACTIVE.pop(run_id, None)


def start_queued(steward: Steward) -> int:
    """Reap, then start what this process has room for; returns how many of each."""
    handled = reap_abandoned(steward) + request_due(steward) + request_on_new_labels(steward)
    for run_id in queued(steward):
        with _LOCK:
            if len(_ACTIVE) >= MAX_CONCURRENT:
                break
        if not claim(steward, run_id):
            continue
        thread = threading.Thread(
            target=_execute, args=(steward, run_id), name=f"steward-run-{run_id}", daemon=True
        )
        with _LOCK:
            _ACTIVE[run_id] = thread
        thread.start()
        handled += 1
    return handled


def _interval(_: Settings) -> float:
    return INTERVAL_S


RUNS = Job(
    name="training.runs",
    description="Starts queued training runs and fails those whose process stopped.",
    run=start_queued,
    interval_s=_interval,
)
