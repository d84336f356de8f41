"""Everything one server process needs to serve: runtime, prediction log, labels, metrics."""

from __future__ import annotations

from typing import Any

from modelsteward.context import Steward
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.metrics import ServingMetrics
from modelsteward.serving.predict import Predictor
from modelsteward.serving.predlog import PredictionLog
from modelsteward.serving.resources import ResourceSampler
from modelsteward.serving.runtime import ServingRuntime


class Serving:
    def __init__(self, steward: Steward) -> None:
        settings = steward.settings
        self.runtime = ServingRuntime(steward, poll_interval_s=settings.serving_poll_s)
        self.log = PredictionLog(
            settings.logs_url,
            flush_interval_s=settings.log_flush_s,
            compression=settings.log_part_compression,
        )
        self.labels = LabelStore(settings.logs_url)
        self.metrics = ServingMetrics()
        self.predictor = Predictor(self.runtime, self.log, self.metrics)
        self.resources = ResourceSampler(
            settings.logs_url, interval_s=settings.resource_sample_s, gpu=self.metrics.gpu
        )

    def attach(self, app: Any) -> None:
        app.state.runtime = self.runtime
        app.state.predictor = self.predictor
        app.state.prediction_log = self.log
        app.state.labels = self.labels
        app.state.metrics = self.metrics

    def start(self) -> None:
        self.runtime.start()
        self.resources.start()

    def stop(self) -> None:
        self.runtime.stop()
        self.predictor.close()
        self.log.close()
        self.resources.stop()
