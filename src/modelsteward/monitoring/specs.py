"""Stored monitor specs: frozen pydantic models, their ``type`` resolved through an allow-list.

A monitor's spec is JSON in the database; ``families.registry.parse_spec`` turns it back
into the spec class of the family its ``type`` names (never an import path read from
storage). Each family names the metrics it produces, so a threshold for a metric that
does not exist is refused.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift.config import DriftConfig

Name = Annotated[str, Field(min_length=1, max_length=128)]
Route = Literal["champion", "challenger", "shadow", "direct", "batch"]

# Metrics where a larger value is better: a registered value becomes a lower bound.
HIGHER_IS_BETTER = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "r2"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(Strict):
    """Either a time window (the last ``hours``) or the ``last`` N logged predictions."""

    hours: Annotated[float, Field(gt=0, le=24 * 400)] | None = None
    last: Annotated[int, Field(ge=1, le=10_000_000)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Window:
        if (self.hours is None) == (self.last is None):
            raise ValueError("a window is either {'hours': H} or {'last': N}")
        return self


class Bound(Strict):
    """Where a metric is healthy: at least ``min``, at most ``max`` (one or both)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _sane(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs 'min' or 'max'")
        if any(v is not None and not math.isfinite(v) for v in (self.min, self.max)):
            raise ValueError("thresholds must be finite numbers")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is larger than 'max'")
        return self

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    @property
    def threshold(self) -> float:
        """The bound a chart draws: the upper one when there is one."""
        value = self.max if self.max is not None else self.min
        assert value is not None
        return value


class MonitorSpec(Strict):
    """Fields every monitor has; ``type`` picks the family (see ``families.registry``)."""

    metrics: ClassVar[tuple[str, ...]] = ()
    type: str
    window: Window = Window(hours=1)
    every_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 15
    thresholds: dict[Name, Bound] = {}
    column_thresholds: dict[Name, dict[Name, Bound]] = {}
    route: Route | None = Field(
        default=None, description="Only this route; by default every route but shadow"
    )
    segment_by: Name | None = Field(default=None, description="An input column to group by")
    min_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 10
    max_rows: Annotated[int, Field(ge=100, le=50_000_000)] = 1_000_000

    @model_validator(mode="after")
    def _known_metrics(self) -> MonitorSpec:
        known = self.metrics
        named = set(self.thresholds) | {m for c in self.column_thresholds.values() for m in c}
        unknown = sorted(named - set(known))
        if unknown:
            raise ValueError(
                f"{self.type} has no metric {unknown[0]!r}; its metrics are {', '.join(known)}"
            )
        return self

    @property
    def interval_s(self) -> int:
        return self.every_minutes * 60

    def bound(self, metric: str, column: str = "") -> Bound | None:
        """The threshold for ``metric`` on ``column``: a per-column one wins."""
        per_column = self.column_thresholds.get(column, {}) if column else {}
        return per_column.get(metric) or self.thresholds.get(metric)


class DataQualitySpec(MonitorSpec):
    metrics = (
        "missing_rate",
        "type_violation_rate",
        "out_of_range_rate",
        "unseen_category_rate",
        "duplicate_row_rate",
        "schema_changes",
    )
    type: Literal["data_quality"] = "data_quality"
    columns: list[Name] | None = None


class DriftSpec(MonitorSpec):
    """Drift settings, passed to ``drift.DriftConfig`` (see docs/drift.md for the rule)."""

    metrics = ("drift_score", "drift_share")
    columns: list[Name] | None = None
    methods: dict[Name, Name] = Field(default={}, description="Per column method: {'age': 'ks'}")
    drift_thresholds: dict[Name, float] = Field(default={}, description="Per column threshold")
    method_thresholds: dict[Name, float] = Field(default={}, description="Per method threshold")
    numeric_method: Name | None = None
    categorical_method: Name | None = None
    share_threshold: Annotated[float, Field(gt=0, le=1)] = 0.5

    @model_validator(mode="after")
    def _drift_settings(self) -> DriftSpec:
        if self.thresholds or self.column_thresholds:
            raise ValueError(
                "drift monitors take drift_thresholds, method_thresholds and share_threshold"
            )
        try:
            self.drift_config()
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return self

    def drift_config(self) -> DriftConfig:
        return DriftConfig(
            methods=dict(self.methods),
            thresholds=dict(self.drift_thresholds),
            method_thresholds=dict(self.method_thresholds),
            numeric_method=self.numeric_method,
            categorical_method=self.categorical_method,
            columns=self.columns,
            min_rows=self.min_rows,
            share_threshold=self.share_threshold,
        )


class DataDriftSpec(DriftSpec):
    type: Literal["data_drift"] = "data_drift"


class PredictionDriftSpec(DriftSpec):
    type: Literal["prediction_drift"] = "prediction_drift"


class PerformanceSpec(MonitorSpec):
    metrics = (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "calibration_error",
        "mae",
        "rmse",
        "mape",
        "r2",
        "labelled_rows",
    )
    type: Literal["performance"] = "performance"
    task: Literal["auto", "classification", "regression"] = "auto"
    prediction: Name | None = Field(default=None, description="Output column of the prediction")
    score: Name | None = Field(default=None, description="Output column of the positive score")
    positive_label: str | int | bool | None = None
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.1
    calibration_bins: Annotated[int, Field(ge=2, le=100)] = 10
    bootstrap: Annotated[int, Field(ge=20, le=2000)] = 200


class OperationsSpec(MonitorSpec):
    metrics = (
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "throughput_rps",
        "error_rate",
        "caller_error_rate",
        "requests",
        "cpu_percent",
        "memory_mb",
        "gpu_utilization",
        "gpu_memory_mb",
    )
    type: Literal["operations"] = "operations"
    min_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 1


DEFAULT_THRESHOLDS: dict[str, dict[str, Bound]] = {
    "data_quality": {  # missing_rate: the reference's rate plus 5 points, per column
        "type_violation_rate": Bound(max=0.0),
        "out_of_range_rate": Bound(max=0.01),
        "unseen_category_rate": Bound(max=0.01),
        "schema_changes": Bound(max=0),
    },
    "operations": {"error_rate": Bound(max=0.05), "latency_p99_ms": Bound(max=1000.0)},
}
