"""Adaptive request batching: requests that arrive together share one ``predict`` call.

Each loaded version gets a ``Batcher``: a queue and one worker thread. A request that
finds the version idle (nothing queued, no prediction running) is predicted at once on
the caller's thread, so a lone request waits for nothing. Requests that arrive while
the version is busy queue up; the worker takes them together once ``max_rows`` rows are
waiting or ``max_wait_s`` has passed since the first of them, concatenates inputs of the
same shape (DataFrames with the same columns and dtypes, arrays with the same trailing
shape and dtype), predicts once and splits the outputs back by row counts. If the batch
fails, or its outputs cannot be split, each request is predicted on its own, so an
error reaches only the request that caused it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from modelsteward.serving.fastpath import numeric_shape
from modelsteward.serving.scoring import ClassifierAnswer

log = logging.getLogger(__name__)
PredictFn = Callable[[Any], Any]


class Queued(Protocol):
    """A request waiting in a batch: its inputs and how many rows they hold."""

    @property
    def inputs(self) -> Any: ...

    @property
    def rows(self) -> int: ...


@dataclass(eq=False)
class _Request:
    inputs: Any
    rows: int
    shape: Hashable
    arrived: float
    future: Future[Any] = field(default_factory=Future)


def batch_shape(inputs: Any) -> Hashable | None:
    """What inputs must share to be concatenated; None for inputs never batched."""
    if isinstance(inputs, pd.DataFrame):
        known = numeric_shape(inputs)  # the fast path's frames: known without asking pandas
        if known is not None:
            return ("frame", *known)
        return ("frame", tuple(inputs.columns.tolist()), tuple(inputs.dtypes))
    if isinstance(inputs, np.ndarray) and inputs.ndim >= 1:
        return ("array", inputs.shape[1:], inputs.dtype)
    return None


def combine(parts: list[Any]) -> Any:
    """Inputs of one ``batch_shape`` as one; a frame of one NumPy dtype (the numeric fast
    path's) is joined as one array, many times faster than ``pd.concat`` of small frames."""
    first = parts[0]
    if isinstance(first, pd.DataFrame):
        dtypes = set(first.dtypes)
        if (
            len(dtypes) == 1
            and isinstance(dtype := dtypes.pop(), np.dtype)
            and dtype.kind in "biuf"
        ):
            block = np.concatenate([p.to_numpy() for p in parts])
            return pd.DataFrame(block, columns=first.columns, copy=False)
        return pd.concat(parts, ignore_index=True)
    return np.concatenate(parts)


def split(outputs: Any, requests: Sequence[Queued]) -> list[Any] | None:
    """Outputs cut back into one piece per request, or None when the rows do not line up."""
    total = sum(r.rows for r in requests)
    bounds, start = [], 0
    for request in requests:
        bounds.append((start, start + request.rows))
        start += request.rows
    if isinstance(outputs, pd.DataFrame | pd.Series):
        if len(outputs) != total:
            return None
        return [
            _with_index(outputs.iloc[a:b], r.inputs)
            for (a, b), r in zip(bounds, requests, strict=True)
        ]
    if isinstance(outputs, np.ndarray):
        if outputs.ndim == 0 or outputs.shape[0] != total:
            return None
        return [outputs[a:b] for a, b in bounds]
    if isinstance(outputs, list | tuple):
        return [outputs[a:b] for a, b in bounds] if len(outputs) == total else None
    if isinstance(outputs, ClassifierAnswer):
        return outputs.split(bounds) if len(outputs) == total else None
    if isinstance(outputs, Mapping):
        columns = {key: split(value, requests) for key, value in outputs.items()}
        if any(parts is None for parts in columns.values()):
            return None
        return [
            {key: parts[i] for key, parts in columns.items() if parts is not None}
            for i in range(len(requests))
        ]
    return None


def _with_index(part: Any, inputs: Any) -> Any:
    """A piece of a frame output indexed like its request, as an unbatched call would be."""
    if isinstance(inputs, pd.DataFrame):
        return part.set_axis(inputs.index, axis=0)
    return part.reset_index(drop=True)


class Batcher:
    """Batches the requests for one loaded version; ``submit`` blocks until its answer."""

    def __init__(self, predict: PredictFn, *, max_rows: int, max_wait_s: float, name: str) -> None:
        self.predict = predict
        self.max_rows = max(1, max_rows)
        self.max_wait_s = max(0.0, max_wait_s)
        self._pending: deque[_Request] = deque()
        self._queued_rows = 0
        self._busy = 0
        self._stopped = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(
            target=self._work, name=f"steward-batch-{name}", daemon=True
        )
        self._thread.start()

    def submit(self, inputs: Any) -> Any:
        if isinstance(inputs, pd.DataFrame) and len(inputs) > self.max_rows:
            return self.predict(inputs)  # too large to batch: no need to work out its shape
        shape = batch_shape(inputs)
        rows = len(inputs) if shape is not None else 0
        if shape is None or rows > self.max_rows:
            return self.predict(inputs)
        with self._cond:
            if self._stopped or (not self._pending and not self._busy):
                self._busy += 1
                request = None
            else:
                request = _Request(inputs, rows, shape, time.monotonic())
                self._pending.append(request)
                self._queued_rows += rows
                if len(self._pending) == 1 or self._queued_rows >= self.max_rows:
                    self._cond.notify()
        if request is not None:
            return request.future.result()
        try:
            return self.predict(inputs)
        finally:
            with self._cond:
                self._busy -= 1

    def stop(self, wait_s: float = 0.0) -> None:
        """Answer what is queued, then end the worker; later requests run unbatched."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if wait_s > 0:
            self._thread.join(wait_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopped:
                    self._cond.wait()
                if not self._pending:
                    return
                deadline = self._pending[0].arrived + self.max_wait_s
                while self._queued_rows < self.max_rows and not self._stopped:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                batch = self._take()
                self._busy += 1
            try:
                self._answer(batch)
            except Exception as exc:  # a bug here must not leave callers waiting forever
                log.exception("batch of %s request(s) failed", len(batch))
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
            finally:
                with self._cond:
                    self._busy -= 1

    def _take(self) -> list[_Request]:
        batch = [self._pending.popleft()]
        rows = batch[0].rows
        while self._pending and rows + self._pending[0].rows <= self.max_rows:
            rows += self._pending[0].rows
            batch.append(self._pending.popleft())
        self._queued_rows -= rows
        return batch

    def _answer(self, batch: list[_Request]) -> None:
        groups: dict[Hashable, list[_Request]] = {}
        for request in batch:
            groups.setdefault(request.shape, []).append(request)
        for group in groups.values():
            parts = self._together(group) if len(group) > 1 else None
            if parts is None:
                for request in group:
                    self._settle(request)
            else:
                for request, part in zip(group, parts, strict=True):
                    request.future.set_result(part)

    def _together(self, group: list[_Request]) -> list[Any] | None:
        try:
            return split(self.predict(combine([r.inputs for r in group])), group)
        except Exception:  # someone's rows broke the batch: predict each on its own
            return None

    def _settle(self, request: _Request) -> None:
        try:
            request.future.set_result(self.predict(request.inputs))
        except Exception as exc:
            request.future.set_exception(exc)


class Batching:
    """One ``Batcher`` per loaded version, started on its first request."""

    def __init__(self, *, enabled: bool, max_rows: int, max_wait_s: float) -> None:
        self.enabled = enabled
        self.max_rows = max_rows
        self.max_wait_s = max_wait_s
        self._batchers: dict[Hashable, Batcher] = {}
        self._lock = threading.Lock()
        self._closed = False

    def predict(
        self,
        key: Hashable,
        predict: PredictFn,
        inputs: Any,
        current: Callable[[], bool] = lambda: True,
    ) -> Any:
        """``predict(inputs)``, batched with concurrent requests for the same ``key``.

        ``current`` says whether the version is still loaded: a request that raced an
        unload is answered unbatched rather than starting a batcher nobody would stop.
        """
        if not self.enabled:
            return predict(inputs)
        batcher = self._batchers.get(key)
        if batcher is None:
            with self._lock:
                batcher = self._batchers.get(key)
                if batcher is None and not self._closed and current():
                    name = "-".join(map(str, key)) if isinstance(key, tuple) else str(key)
                    batcher = Batcher(
                        predict, max_rows=self.max_rows, max_wait_s=self.max_wait_s, name=name
                    )
                    self._batchers[key] = batcher
        return predict(inputs) if batcher is None else batcher.submit(inputs)

    def batcher(self, key: Hashable) -> Batcher | None:
        return self._batchers.get(key)

    def stop(self, keys: Iterable[Hashable]) -> None:
        """Stop the batchers of versions that were unloaded."""
        with self._lock:
            stopped = [self._batchers.pop(k) for k in list(keys) if k in self._batchers]
        for batcher in stopped:
            batcher.stop()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            stopped = list(self._batchers.values())
            self._batchers.clear()
        for batcher in stopped:
            batcher.stop(wait_s=5.0)
