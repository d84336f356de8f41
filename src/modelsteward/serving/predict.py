"""Answering one prediction request: route, validate, predict, mirror, log, measure.

The caller's answer never waits for shadows or for the prediction log: shadow copies go
to a bounded queue answered in batches on a thread of their own (``serving.shadows``),
and log records keep the validated inputs and the outputs as they are for a background
writer. Concurrent requests for the same version share a ``predict`` call (see
``serving.batching``). A version whose ``predict`` calls are cheap may be answered on
the caller's thread, the event loop, with no hop to a worker thread (``inline``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from modelsteward.errors import NotFound, StewardError
from modelsteward.ids import request_id as new_request_id
from modelsteward.serving.batching import Batching
from modelsteward.serving.costs import PredictCosts
from modelsteward.serving.fastpath import numeric_table
from modelsteward.serving.logrows import Rows
from modelsteward.serving.metrics import ServingMetrics
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.serving.router import choose, shadows
from modelsteward.serving.runtime import LiveDeployment, LoadedVersion, ServingRuntime, VersionKey
from modelsteward.serving.scoring import ClassifierAnswer, predictions_of
from modelsteward.serving.shadows import Answer, Mirrored, ShadowMirror
from modelsteward.serving.validation import Validated, require_rows

log = logging.getLogger(__name__)
# Bodies up to these sizes may be answered on the event loop (see ``inline_bytes``).
INLINE_BYTES = 32 * 1024
INLINE_NUMERIC_BYTES = 1024 * 1024
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
    # A classifier's probabilities behind ``outputs`` (see ``serving.scoring``), or None.
    scored: ClassifierAnswer | None = None


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
        self, runtime: ServingRuntime, prediction_log: PredictionLog, metrics: ServingMetrics
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
        self.costs = PredictCosts(settings.inline_predict_ms / 1000)
        self.shadows = ShadowMirror(
            self._record_shadow, dropped=self._dropped, max_queued=settings.shadow_queue
        )
        runtime.cache.on_unload(self.batching.stop)
        runtime.cache.on_unload(self.costs.forget)

    def close(self) -> None:
        self.shadows.close()
        self.batching.close()

    def run_model(self, target: LoadedVersion, inputs: Any, *, inline: bool = False) -> Any:
        """``target``'s prediction for ``inputs``: on this thread when ``inline``, else
        batched with concurrent requests."""
        key: VersionKey = (target.model, target.version)
        if inline:
            return self.costs.timed(key, target.run)(inputs)
        return self.batching.predict(
            key,
            self.costs.timed(key, target.run),
            inputs,
            current=lambda: self.runtime.cache.holds(target),
        )

    def inline_bytes(self, name: str) -> int:
        """The largest body of ``name`` to answer on the calling event loop; 0 for none.

        Only a deployment loaded here (answering needs no database) whose answering
        versions (not shadows: they have their own thread) predict in under
        ``STEWARD_INLINE_PREDICT_MS`` of CPU time. Bodies for the numeric fast path are
        checked in a few vectorised passes, so larger ones qualify than for others.
        """
        live = self.runtime.loaded(name)
        if live is None:
            return 0
        answering = [live.versions[r["version"]] for r in live.routes if r["role"] != "shadow"]
        if not self.costs.cheap((v.model, v.version) for v in answering):
            return 0
        numeric = all(numeric_table(v.input_schema) is not None for v in answering)
        return INLINE_NUMERIC_BYTES if numeric else INLINE_BYTES

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
        inline: bool = False,
    ) -> Prediction:
        return self.predict_on(
            self.runtime.use(name),
            decode,
            key=key,
            version=version,
            request_id=request_id,
            inline=inline,
        )

    def predict_on(
        self,
        live: LiveDeployment,
        decode: Decoder,
        *,
        key: str | None = None,
        version: int | None = None,
        request_id: str | None = None,
        inline: bool = False,
    ) -> Prediction:
        """``predict`` on routes already read (``runtime.use``), so that a caller that
        checked the request against them predicts on the same routes."""
        name = live.name
        route, target = self._target(live, key, version)
        request_id = request_id or new_request_id()
        started = time.perf_counter()
        status, outputs, error, inputs = 200, None, None, None
        logged: Rows | None = None
        with self.metrics.in_flight(name):
            try:
                decoded = decode(target.input_schema)
                if isinstance(decoded, Validated):
                    inputs, logged = decoded.inputs, Rows(decoded.inputs, decoded.logged_json)
                else:
                    inputs, logged = decoded, Rows(decoded)
                require_rows(inputs)
                outputs = self.run_model(target, inputs, inline=inline)
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
                self.metrics.observe(name, target.version, route["role"], status, latency)
                self._record(
                    request_id,
                    name,
                    target,
                    route["role"],
                    logged,
                    outputs,
                    latency,
                    status,
                    key,
                    error,
                )
        for shadow in shadows(live.routes):
            self.shadows.offer(
                Mirrored(name, live.versions[shadow["version"]], inputs, request_id, key, logged)
            )
        scored = outputs if isinstance(outputs, ClassifierAnswer) else None
        return Prediction(
            request_id,
            name,
            target.model,
            target.version,
            route["role"],
            predictions_of(outputs),
            latency * 1000,
            scored,
        )

    def _record_shadow(self, item: Mirrored, answer: Answer) -> None:
        status = 200 if answer.error is None else 500
        target: LoadedVersion = item.target
        self.metrics.observe(item.deployment, target.version, "shadow", status, answer.latency_s)
        self._record(
            item.request_id,
            item.deployment,
            target,
            "shadow",
            item.logged,
            answer.outputs,
            answer.latency_s,
            status,
            item.key,
            answer.error,
        )

    def _dropped(self, item: Mirrored) -> None:
        self.metrics.shadow_dropped(item.deployment, item.target.version)

    def _record(
        self,
        request_id: str,
        deployment: str,
        target: LoadedVersion,
        role: str,
        inputs: Rows | None,
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
                deployment=deployment,
                model=target.model,
                version=target.version,
                route=role,
                inputs=inputs if inputs is not None else [],
                outputs=Rows(outputs) if outputs is not None else [],
                latency_ms=latency_s * 1000,
                status=status,
                key=key,
                error=error,
            )
        )
