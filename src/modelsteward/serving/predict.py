"""Answering one prediction request: route, validate, predict, mirror, log, measure.

The caller's answer never waits for shadows or for the prediction log: shadows run
on a small thread pool and log records go to a buffered background writer. Concurrent
requests for the same version share a ``predict`` call (see ``serving.batching``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from modelsteward.errors import NotFound, StewardError
from modelsteward.serving.batching import Batching
from modelsteward.serving.metrics import ServingMetrics
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.serving.router import choose, shadows
from modelsteward.serving.runtime import LiveDeployment, LoadedVersion, ServingRuntime

log = logging.getLogger(__name__)
Decoder = Callable[[dict[str, Any] | None], Any]


class ModelFailed(StewardError):
    """The model raised while predicting: answered in the API's error shape, like any error."""

    status, code, exit_code = 500, "model_failed", 1


@dataclass(frozen=True)
class Prediction:
    request_id: str
    deployment: str
    model: str
    version: int
    route: str
    outputs: Any
    latency_ms: float


def as_rows(value: Any) -> list[Any]:
    """JSON-friendly rows for the log and the response."""
    if isinstance(value, pd.DataFrame):
        return value.to_dict("records")
    if isinstance(value, pd.Series):
        return value.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return list(value)


class Predictor:
    def __init__(
        self,
        runtime: ServingRuntime,
        prediction_log: PredictionLog,
        metrics: ServingMetrics,
        shadow_threads: int = 2,
    ) -> None:
        settings = runtime.steward.settings
        self.runtime = runtime
        self.log = prediction_log
        self.metrics = metrics
        self.batching = Batching(
            enabled=settings.batching,
            max_rows=settings.batch_max_rows,
            max_wait_s=settings.batch_max_wait_ms / 1000,
        )
        runtime.cache.on_unload(self.batching.stop)
        self._shadows = ThreadPoolExecutor(shadow_threads, thread_name_prefix="steward-shadow")

    def close(self) -> None:
        self._shadows.shutdown(wait=True)
        self.batching.close()

    def run_model(self, target: LoadedVersion, inputs: Any) -> Any:
        """``target``'s prediction for ``inputs``, batched with concurrent requests."""
        return self.batching.predict(
            (target.model, target.version),
            target.predictor.predict,
            inputs,
            current=lambda: self.runtime.cache.holds(target),
        )

    def _target(
        self, live: LiveDeployment, key: str | None, version: int | None
    ) -> tuple[dict[str, Any], LoadedVersion]:
        if version is None:
            route = choose(live.routes, key)
        else:
            found = [r for r in live.routes if r["version"] == version]
            if not found:
                raise NotFound(f"deployment {live.name!r} does not serve version {version}")
            route = found[0]
        return route, live.versions[route["version"]]

    def predict(
        self,
        name: str,
        decode: Decoder,
        *,
        key: str | None = None,
        version: int | None = None,
        request_id: str | None = None,
    ) -> Prediction:
        live = self.runtime.use(name)
        route, target = self._target(live, key, version)
        request_id = request_id or uuid.uuid4().hex
        started = time.perf_counter()
        status, outputs, error, inputs = 200, None, None, None
        with self.metrics.in_flight(name):
            try:
                inputs = decode(target.input_schema)
                outputs = self.run_model(target, inputs)
            except StewardError as exc:
                status, error = exc.status, exc.code
                raise
            except Exception as exc:
                status, error = 500, type(exc).__name__
                log.exception(
                    "model %s v%s failed on request %s", target.model, target.version, request_id
                )
                raise ModelFailed(
                    f"model {target.model} v{target.version} failed on this request "
                    f"({type(exc).__name__}); the server log has the details"
                ) from exc
            finally:
                latency = time.perf_counter() - started
                self.metrics.observe(name, str(target.version), route["role"], status, latency)
                self._record(
                    request_id,
                    live,
                    target,
                    route["role"],
                    inputs,
                    outputs,
                    latency,
                    status,
                    key,
                    error,
                )
        for shadow in shadows(live.routes):
            self._shadows.submit(self._mirror, live, shadow, inputs, request_id, key)
        return Prediction(
            request_id, name, target.model, target.version, route["role"], outputs, latency * 1000
        )

    def _mirror(
        self,
        live: LiveDeployment,
        route: dict[str, Any],
        inputs: Any,
        request_id: str,
        key: str | None,
    ) -> None:
        target = live.versions[route["version"]]
        started = time.perf_counter()
        status, outputs, error = 200, None, None
        try:
            outputs = self.run_model(target, inputs)
        except Exception as exc:  # a failing shadow is recorded, never seen by the caller
            status, error = 500, type(exc).__name__
        latency = time.perf_counter() - started
        self.metrics.observe(live.name, str(target.version), "shadow", status, latency)
        self._record(
            request_id, live, target, "shadow", inputs, outputs, latency, status, key, error
        )

    def _record(
        self,
        request_id: str,
        live: LiveDeployment,
        target: LoadedVersion,
        role: str,
        inputs: Any,
        outputs: Any,
        latency_s: float,
        status: int,
        key: str | None,
        error: str | None,
    ) -> None:
        self.log.record(
            PredictionRecord(
                request_id=request_id,
                at=datetime.now(UTC),
                deployment=live.name,
                model=target.model,
                version=target.version,
                route=role,
                inputs=as_rows(inputs) if inputs is not None else [],
                outputs=as_rows(outputs) if outputs is not None else [],
                latency_ms=latency_s * 1000,
                status=status,
                key=key,
                error=error,
            )
        )
