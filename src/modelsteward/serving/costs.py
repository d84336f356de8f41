"""What a version's ``predict`` call costs, to decide where its requests are answered.

A worker-thread hop, and the wait for the interpreter lock that comes with it, cost
about as much as a small model's whole prediction. So a version whose calls take under
``inline_s`` of CPU time on average is answered on the event loop, as a minimal server
would; a slower one (a large forest, a network) on a worker thread, where adaptive
batching gathers concurrent requests while the event loop keeps reading them. CPU time
rather than wall time, so that waiting for the lock while other requests run does not
make a small model look large. A version starts on a thread until a few calls are timed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterable
from typing import Any

from modelsteward.serving.batching import PredictFn

MIN_CALLS = 5
SAMPLE_EVERY = 16
WEIGHT = 0.2  # of the newest call in the moving average


class PredictCosts:
    """A moving average of CPU seconds per ``predict`` call, per loaded version."""

    def __init__(self, inline_s: float) -> None:
        self.inline_s = inline_s
        self._seconds: dict[Hashable, float] = {}
        self._calls: dict[Hashable, int] = {}
        self._seen: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def timed(self, key: Hashable, predict: PredictFn) -> PredictFn:
        """``predict``, timing the first ``MIN_CALLS`` calls under ``key`` and then one in
        ``SAMPLE_EVERY``: reading a thread's CPU clock is a system call, which costs a
        small model's request more than the sample is worth."""
        self._seen[key] = seen = self._seen.get(key, 0) + 1
        if seen > MIN_CALLS and seen % SAMPLE_EVERY:
            return predict

        def run(inputs: Any) -> Any:
            started = time.thread_time()  # CPU time: waiting for the lock is not the model's
            try:
                return predict(inputs)
            finally:
                self.note(key, time.thread_time() - started)

        return run

    def note(self, key: Hashable, seconds: float) -> None:
        with self._lock:
            calls = self._calls.get(key, 0) + 1
            before = self._seconds.get(key, seconds)
            self._calls[key] = calls
            self._seconds[key] = before + (seconds - before) * max(WEIGHT, 1 / calls)

    def seconds(self, key: Hashable) -> float | None:
        """The average, or None before ``MIN_CALLS`` calls were timed."""
        return self._seconds.get(key) if self._calls.get(key, 0) >= MIN_CALLS else None

    def cheap(self, keys: Iterable[Hashable]) -> bool:
        """Whether every version in ``keys`` predicts in under ``inline_s`` on average."""
        if self.inline_s <= 0:
            return False
        for key in keys:
            seconds = self.seconds(key)
            if seconds is None or seconds >= self.inline_s:
                return False
        return True

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Drop the figures of unloaded versions."""
        with self._lock:
            for key in keys:
                self._seconds.pop(key, None)
                self._calls.pop(key, None)
                self._seen.pop(key, None)
