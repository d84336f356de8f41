"""Running one handler call with a time limit.

A handler that hangs must not stall every other subscriber. Each subscriber's calls run
on a thread of its own; a call that outlives its subscriber's ``timeout_s`` is recorded
as failed (and retried later), and its thread is abandoned, a fresh one taking the next
call. Python cannot stop a thread, so the abandoned call may still finish: delivery is
at least once, and handlers are idempotent by event id.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Call = Callable[[], None]


@dataclass
class _Slot:
    done: threading.Event = field(default_factory=threading.Event)
    error: str | None = None


class HandlerThread:
    def __init__(self, name: str) -> None:
        self.name = name
        self._calls: queue.SimpleQueue[tuple[Call, _Slot] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"steward-event-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._calls.get()
            if item is None:
                return
            call, slot = item
            try:
                call()
            except Exception as exc:  # the error is the delivery's result, not a crash
                slot.error = f"{type(exc).__name__}: {exc}"
            slot.done.set()

    def call(self, call: Call, timeout_s: float) -> str | None:
        """Run ``call``; None on success, else why it failed (``TimeoutError`` if it hung)."""
        slot = _Slot()
        self._calls.put((call, slot))
        if not slot.done.wait(timeout_s):
            return f"TimeoutError: the handler did not return within {timeout_s:g} s"
        return slot.error

    def stop(self) -> None:
        self._calls.put(None)


class HandlerThreads:
    """One ``HandlerThread`` per subscriber, replaced when a call times out."""

    def __init__(self) -> None:
        self._threads: dict[str, HandlerThread] = {}

    def call(self, subscriber: str, call: Call, timeout_s: float) -> str | None:
        thread = self._threads.get(subscriber)
        if thread is None:
            thread = self._threads[subscriber] = HandlerThread(subscriber)
        error = thread.call(call, timeout_s)
        if error is not None and error.startswith("TimeoutError"):
            thread.stop()  # it ends after the hung call, if ever; the next call gets a new one
            del self._threads[subscriber]
        return error

    def stop(self) -> None:
        for thread in self._threads.values():
            thread.stop()
        self._threads.clear()
