"""Background work, and the worker process that runs it apart from serving.

Background work is every registered periodic job (``jobs``: life cycle timers, monitor
runs, prediction-log compaction...) and the delivery of events to the cluster's
subscribers (``events.dispatcher``). A monitor run reads and scores a window of the
prediction log: seconds of CPU, much of it holding the GIL. Inside a serving process
that stalls the event loop, which then gets the GIL back only every few milliseconds,
so requests wait. ``steward server`` therefore runs background work in one worker
process of its own, at a lower CPU priority, and switches it off in its serving
processes (``--background inline`` keeps the old way: a scheduler thread in each
serving process). Each job claims its items with a compare-and-set and each
subscriber's cursor is leased, so any number of workers and servers still do each once.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from functools import partial

from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.jobs import JOBS
from modelsteward.lifecycle.store import ensure_library
from modelsteward.scheduler import Scheduler

log = logging.getLogger(__name__)
WORKER_NICENESS = 10  # what `steward server` gives its worker: requests come first
PARENT_CHECK_S = 1.0
STOP_TIMEOUT_S = 30.0


def background_work(steward: Steward) -> Scheduler:
    """The scheduler of every registered job (not started); a job whose interval the
    settings make 0 is left out."""
    scheduler = Scheduler(tick_s=steward.settings.scheduler_tick_s)
    for job in sorted(JOBS.available().values(), key=lambda j: j.name):
        interval = job.interval_s(steward.settings)
        if interval is not None and interval <= 0:
            continue
        scheduler.add(job.name, partial(job.run, steward), interval_s=interval)
    return scheduler


def run_worker(steward: Steward, stop: threading.Event, parent_pid: int | None = None) -> None:
    """Do background work until ``stop`` is set, or until the process ``parent_pid``
    (the server that started this worker) is gone."""
    ensure_library(steward)
    scheduler = background_work(steward)
    dispatcher = Dispatcher(steward, scopes=("cluster",))
    scheduler.start()
    dispatcher.start()
    try:
        while not stop.wait(PARENT_CHECK_S):
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("the server that started this worker is gone; stopping")
                return
    finally:
        dispatcher.stop()
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
