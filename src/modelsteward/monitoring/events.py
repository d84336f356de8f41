"""Events monitoring records: monitors and their metrics' breaches (see docs/events.md)."""

from __future__ import annotations

from typing import Any

from modelsteward.events.catalogue import EventType, Payload


class MonitorCreated(Payload):
    deployment: str
    name: str
    spec: dict[str, Any]


class MonitorUpdated(Payload):
    deployment: str
    spec: dict[str, Any]
    enabled: bool


class BaselineChanged(Payload):
    deployment: str
    baseline: dict[str, Any] | None


class MetricStatus(Payload):
    """One metric point of a monitor run that crossed its threshold (or came back)."""

    model: str
    deployment: str
    monitor: str
    monitor_id: int
    type: str
    run_id: int | None
    metric: str
    column: str
    segment: str
    version: int | None
    value: float | None
    threshold: float | None
    low: float | None
    high: float | None
    window_end: str


class MonitorRan(Payload):
    """A monitor run was stored: what alert rules evaluate, window after window."""

    model: str
    deployment: str
    monitor: str
    monitor_id: int
    type: str
    run_id: int
    status: str
    rows: int
    window_end: str


EVENTS = [
    EventType(
        "monitor.created", "A monitor was created for a deployment.", "monitor", MonitorCreated
    ),
    EventType(
        "monitor.updated",
        "A monitor's spec, thresholds or enabled flag changed.",
        "monitor",
        MonitorUpdated,
    ),
    EventType(
        "monitor.baseline_pinned",
        "A monitor now compares against a pinned window instead of the training profile.",
        "monitor",
        BaselineChanged,
    ),
    EventType(
        "monitor.baseline_cleared",
        "A monitor's pinned baseline was removed.",
        "monitor",
        BaselineChanged,
    ),
    EventType(
        "metric.breached",
        "A monitor's metric crossed its threshold (it was not breached in the previous run).",
        "monitor",
        MetricStatus,
    ),
    EventType(
        "metric.recovered",
        "A breached metric is within its threshold again.",
        "monitor",
        MetricStatus,
    ),
    EventType(
        "monitor.ran",
        "A monitor run and its points were stored (every run, breached or not).",
        "monitor",
        MonitorRan,
    ),
]
