"""Shadow mirroring off the caller's path: a bounded queue, answered in batches.

A shadow version gets a copy of every request its deployment answers, but its answer is
only logged. The copy goes into a bounded queue (``offer`` never waits: when the queue is
full the copy is dropped and counted, so an overloaded shadow can never slow the
champion's callers), and one thread answers what is queued. It lets copies gather for up
to ``linger_s`` and predicts each shadow version once for all of them, so a shadow as
costly as its champion costs the process a fraction of a prediction per request rather
than a whole one, competing for the interpreter while the caller's next request waits.
The linger is long (250 ms) because nobody waits for a shadow's answer: the longer the
batch, the rarer the moments when a shadow's prediction competes with a caller's.
``close`` answers everything still queued, so a clean shutdown loses no shadow record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from modelsteward.serving.batching import batch_shape, combine, split
from modelsteward.serving.logrows import Rows

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Mirrored:
    """One request's copy for one shadow version: what it needs to predict and be logged."""

    deployment: str
    target: Any  # the shadow's LoadedVersion
    inputs: Any
    request_id: str
    key: str | None
    logged: Rows | None = None  # the champion record's inputs, reused for the shadow's

    @property
    def rows(self) -> int:
        return len(self.inputs) if batch_shape(self.inputs) is not None else 0


@dataclass(frozen=True)
class Answer:
    """A shadow's answer to one mirrored request: outputs, or the error's type name."""

    outputs: Any
    latency_s: float
    error: str | None = None


Record = Callable[[Mirrored, Answer], None]
Dropped = Callable[[Mirrored], None]


class ShadowMirror:
    """Answers mirrored requests on one thread, in batches per shadow version."""

    def __init__(
        self,
        record: Record,
        *,
        dropped: Dropped,
        max_queued: int = 1024,
        linger_s: float = 0.25,
        max_rows: int = 256,
    ) -> None:
        self.record, self.on_drop = record, dropped
        self.linger_s, self.max_rows = linger_s, max(1, max_rows)
        self.max_queued = max(1, max_queued)
        self.dropped = 0
        self._queued: deque[Mirrored] = deque()
        self._lock = threading.Lock()
        self._wake, self._closing = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._work, name="steward-shadows", daemon=True)
        self._thread.start()

    def offer(self, item: Mirrored) -> bool:
        """Queue a copy without waiting; False (and counted) when the queue is full.

        Only the copy that finds the queue empty wakes the thread, once per batch, so
        the caller's thread does not hand the interpreter over at every request."""
        with self._lock:
            full = len(self._queued) >= self.max_queued
            if not full:
                self._queued.append(item)
            first = len(self._queued) == 1
        if full:
            self.dropped += 1
            self.on_drop(item)
            return False
        if first:
            self._wake.set()
        return True

    def pending(self) -> int:
        return len(self._queued)

    def close(self, wait_s: float = 30.0) -> None:
        """Answer what is queued, then end the thread."""
        self._closing.set()
        self._wake.set()
        self._thread.join(wait_s)

    def _work(self) -> None:
        while True:
            self._wake.wait()
            self._closing.wait(self.linger_s)  # let copies gather; closing cuts it short
            self._wake.clear()
            while batch := self._take():
                try:
                    self._answer(batch)
                except Exception:  # a bug here must not end mirroring for the process
                    log.exception("answering %s mirrored request(s) failed", len(batch))
            if self._closing.is_set():
                return

    def _take(self) -> list[Mirrored]:
        """Queued copies, oldest first, up to ``max_rows`` rows (at least one copy)."""
        batch: list[Mirrored] = []
        rows = 0
        with self._lock:
            while self._queued and (not batch or rows + self._queued[0].rows <= self.max_rows):
                item = self._queued.popleft()
                batch.append(item)
                rows += item.rows
        return batch

    def _answer(self, batch: list[Mirrored]) -> None:
        groups: dict[Hashable, list[Mirrored]] = {}
        for item in batch:
            shape = batch_shape(item.inputs)
            key = (id(item.target), shape) if shape is not None else (id(item), None)
            groups.setdefault(key, []).append(item)
        for group in groups.values():
            if len(group) == 1 or not self._together(group):
                for item in group:
                    self._alone(item)

    def _together(self, group: list[Mirrored]) -> bool:
        started = time.perf_counter()
        try:
            parts = split(group[0].target.run(combine([i.inputs for i in group])), group)
        except Exception:  # someone's rows broke the batch: each is answered on its own
            return False
        if parts is None:
            return False
        latency = time.perf_counter() - started
        for item, part in zip(group, parts, strict=True):
            self.record(item, Answer(part, latency))
        return True

    def _alone(self, item: Mirrored) -> None:
        started = time.perf_counter()
        try:
            outputs = item.target.run(item.inputs)
        except Exception as exc:  # a failing shadow is recorded, never seen by the caller
            self.record(item, Answer(None, time.perf_counter() - started, type(exc).__name__))
            return
        self.record(item, Answer(outputs, time.perf_counter() - started))
