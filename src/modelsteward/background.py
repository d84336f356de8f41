"""Background work, and the worker process that runs it apart from serving.

Background work is due life cycle timers and starts, monitor runs and prediction-log
compaction. A monitor run reads and scores a window of the prediction log: seconds of
CPU, much of it holding the GIL. Inside a serving process that stalls the event loop,
which then gets the GIL back only every few milliseconds, so requests wait. ``steward
server`` therefore runs background work in one worker process of its own, at a lower
CPU priority, and switches it off in its serving processes (``--background inline``
keeps the old way: a scheduler thread in each serving process). Each job claims its
items with a compare-and-set, so any number of workers and servers still do each once.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

from modelsteward.context import Steward
from modelsteward.lifecycle import engine as lifecycle_engine
from modelsteward.lifecycle.instances import start_pending_instances
from modelsteward.lifecycle.store import ensure_library
from modelsteward.lifecycle.timers import fire_due_timers
from modelsteward.monitoring.runner import run_due_monitors
from modelsteward.scheduler import Scheduler
from modelsteward.serving.compaction import scheduled_compaction

log = logging.getLogger(__name__)
WORKER_NICENESS = 10  # what `steward server` gives its worker: requests come first
PARENT_CHECK_S = 1.0
STOP_TIMEOUT_S = 30.0


def background_work(steward: Steward) -> Scheduler:
    """The scheduler of every background job (not started)."""
    scheduler = Scheduler(tick_s=steward.settings.scheduler_tick_s)
    scheduler.add("lifecycle-timers", lambda: fire_due_timers(steward))
    scheduler.add("lifecycle-starts", lambda: start_pending_instances(steward))
    scheduler.add("monitors", lambda: run_due_monitors(steward))
    settings = steward.settings
    if settings.log_compact_minutes > 0:  # each hour folder is claimed, so N processes are safe
        scheduler.add(
            "log-compaction",
            lambda: scheduled_compaction(settings.logs_url, settings.log_compact_grace_minutes),
            interval_s=settings.log_compact_minutes * 60,
        )
    return scheduler


def run_worker(steward: Steward, stop: threading.Event, parent_pid: int | None = None) -> None:
    """Do background work until ``stop`` is set, or until the process ``parent_pid``
    (the server that started this worker) is gone."""
    ensure_library(steward)
    lifecycle_engine.attach(steward)  # a monitor's alert may move a life cycle
    scheduler = background_work(steward)
    scheduler.start()
    try:
        while not stop.wait(PARENT_CHECK_S):
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("the server that started this worker is gone; stopping")
                return
    finally:
        scheduler.stop()


def start_worker() -> subprocess.Popen[bytes]:
    """``steward worker`` as a child of this process (same environment), at a lower CPU
    priority."""
    command = [sys.executable, "-m", "modelsteward", "worker"]
    command += ["--parent", str(os.getpid()), "--nice", str(WORKER_NICENESS)]
    return subprocess.Popen(command)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to finish its current job and stop; kill it if it will not."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
