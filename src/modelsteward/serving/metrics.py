"""Prometheus metrics of the serving layer, in a registry of their own.

Each ``ServingMetrics`` owns a ``CollectorRegistry`` rather than the process-global one,
so several apps (and tests) in one process never collide. Besides request counters and
latency it reports process CPU/memory and, when NVML answers, GPU utilisation and memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# From half a millisecond (a small tabular model) to ten seconds (a slow batch or LLM call).
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
ROUTE_LABELS = ("deployment", "version", "route")
MAX_CACHED_SERIES = 10_000  # label look-ups kept per process; past it the cache starts over
_Children = tuple[Any, Any, Any | None, Any | None]


class GpuCollector(Collector):
    """Utilisation and memory of every GPU NVML sees, read at scrape time."""

    def __init__(self, nvml: Any, count: int) -> None:
        self.nvml, self.count = nvml, count

    def collect(self) -> Iterable[Metric]:
        utilization = GaugeMetricFamily(
            "steward_gpu_utilization_ratio",
            "GPU busy time over the last sample (0-1).",
            labels=["gpu"],
        )
        used = GaugeMetricFamily(
            "steward_gpu_memory_used_bytes", "GPU memory in use.", labels=["gpu"]
        )
        total = GaugeMetricFamily(
            "steward_gpu_memory_total_bytes", "GPU memory installed.", labels=["gpu"]
        )
        for index in range(self.count):
            try:
                handle = self.nvml.nvmlDeviceGetHandleByIndex(index)
                rates = self.nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = self.nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:  # a device that stops answering is skipped, never fails a scrape
                continue
            utilization.add_metric([str(index)], rates.gpu / 100.0)
            used.add_metric([str(index)], float(memory.used))
            total.add_metric([str(index)], float(memory.total))
        return [utilization, used, total]


def gpu_collector() -> GpuCollector | None:
    """A collector over NVML, or None when pynvml is missing or no GPU answers."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the old 'pynvml' package warns on import
            import pynvml
        pynvml.nvmlInit()
        count = int(pynvml.nvmlDeviceGetCount())
    except Exception:
        return None
    return GpuCollector(pynvml, count) if count > 0 else None


class ServingMetrics:
    """Request, latency, in-flight, process and GPU metrics for one serving app."""

    def __init__(self, *, gpu: bool = True) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "steward_requests",
            "Prediction requests served, by HTTP status.",
            (*ROUTE_LABELS, "status"),
            registry=self.registry,
        )
        self.errors = Counter(
            "steward_request_errors",
            "Prediction requests that failed on the server side (HTTP 5xx).",
            ROUTE_LABELS,
            registry=self.registry,
        )
        self.caller_errors = Counter(
            "steward_request_caller_errors",
            "Prediction requests refused as the caller's mistake (HTTP 4xx): bad input, "
            "no rows, an unknown version. Counted apart so they never read as model errors.",
            ROUTE_LABELS,
            registry=self.registry,
        )
        self.latency = Histogram(
            "steward_request_latency_seconds",
            "Time from request received to response ready.",
            ROUTE_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.shadows_dropped = Counter(
            "steward_shadow_dropped",
            "Mirrored copies of requests a shadow never answered: its queue was full.",
            ("deployment", "version"),
            registry=self.registry,
        )
        self.in_flight_requests = Gauge(
            "steward_in_flight_requests",
            "Prediction requests being processed now.",
            ("deployment",),
            registry=self.registry,
        )
        self._children: dict[tuple[str, int | str, str, int], _Children] = {}
        self._gauges: dict[str, Any] = {}
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.gpu = gpu_collector() if gpu else None
        if self.gpu is not None:
            self.registry.register(self.gpu)

    def observe(
        self, deployment: str, version: int | str, route: str, status: int, latency_s: float
    ) -> None:
        """Count one finished request and its latency; 5xx statuses also count as errors,
        4xx ones as caller errors."""
        children = self._children.get((deployment, version, route, status))
        if children is None:
            children = self._labelled(deployment, str(version), route, status)
        requests, latency, errors, caller_errors = children
        requests.inc()
        latency.observe(latency_s)
        if errors is not None:
            errors.inc()
        if caller_errors is not None:
            caller_errors.inc()

    def _labelled(self, deployment: str, version: str, route: str, status: int) -> _Children:
        """The labelled series of one (deployment, version, route, status), looked up once."""
        labels = (deployment, version, route)
        children = (
            self.requests.labels(*labels, str(status)),
            self.latency.labels(*labels),
            self.errors.labels(*labels) if status >= 500 else None,
            self.caller_errors.labels(*labels) if 400 <= status < 500 else None,
        )
        if len(self._children) >= MAX_CACHED_SERIES:
            self._children.clear()
        self._children[(deployment, version, route, status)] = children
        return children

    def shadow_dropped(self, deployment: str, version: int | str) -> None:
        self.shadows_dropped.labels(deployment, str(version)).inc()

    @contextmanager
    def in_flight(self, deployment: str) -> Iterator[None]:
        gauge = self._gauges.get(deployment)
        if gauge is None:
            gauge = self._gauges[deployment] = self.in_flight_requests.labels(deployment)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type, for a ``/metrics`` route."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
