"""Periodic background work (life cycle timers, due monitors) on a timer; see ``background``.

Each job claims its own due work in the database with a compare-and-set (a timer row,
a monitor's ``next_run_at``), so N worker processes and replicas can all run the same
scheduler and every piece of work still happens once. The scheduler itself only keeps
time: one daemon thread wakes every ``tick_s`` seconds and runs each job whose interval
has passed, one job's failure never stopping the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Job = Callable[[], int]
"""Does the work that is due now and returns how many items it handled."""


@dataclass
class _Entry:
    name: str
    interval_s: float
    job: Job
    next_at: float = 0.0
    runs: int = 0
    handled: int = 0
    failures: int = 0
    last_error: str = ""


@dataclass
class Scheduler:
    """Runs registered jobs on their intervals in one background thread."""

    tick_s: float = 5.0
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, name: str, job: Job, *, interval_s: float | None = None) -> None:
        if name in self._entries:
            raise ValueError(f"a job named {name!r} is already scheduled")
        self._entries[name] = _Entry(name, interval_s or self.tick_s, job)

    @property
    def enabled(self) -> bool:
        return self.tick_s > 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="steward-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def run_due(self, now: float | None = None) -> int:
        """Run every job whose time has come; returns the items handled (tests call this)."""
        now = time.monotonic() if now is None else now
        handled = 0
        for entry in list(self._entries.values()):
            if self._thread is not None and self._stop.is_set():
                break  # shutting down: leave the rest for the next process
            if now < entry.next_at:
                continue
            entry.next_at = now + entry.interval_s
            entry.runs += 1
            try:
                count = entry.job()
            except Exception as error:  # a failing job must not stop the others
                entry.failures += 1
                entry.last_error = f"{type(error).__name__}: {error}"[:500]
                log.exception("scheduled job %s failed", entry.name)
                continue
            entry.handled += count
            handled += count
        return handled

    def stats(self) -> dict[str, dict[str, object]]:
        return {
            e.name: {
                "interval_s": e.interval_s,
                "runs": e.runs,
                "handled": e.handled,
                "failures": e.failures,
                "last_error": e.last_error,
            }
            for e in self._entries.values()
        }

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(min(self.tick_s, self._shortest_interval()))

    def _shortest_interval(self) -> float:
        return min((e.interval_s for e in self._entries.values()), default=self.tick_s)
