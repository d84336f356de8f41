"""Serving metrics render in the Prometheus text format, each app in its own registry."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelsteward.serving.metrics import LATENCY_BUCKETS, ServingMetrics


def samples(metrics: ServingMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_observed_requests_render_with_their_labels() -> None:
    metrics = ServingMetrics(gpu=False)
    metrics.observe("churn", 3, "champion", 200, 0.004)
    metrics.observe("churn", 3, "champion", 200, 0.002)
    metrics.observe("churn", 4, "challenger", 503, 0.5)
    found = samples(metrics)
    route = {"deployment": "churn", "version": "3", "route": "champion"}
    assert found[("steward_requests_total", labels(**route, status="200"))] == 2
    assert found[("steward_request_latency_seconds_count", labels(**route))] == 2
    assert found[("steward_request_latency_seconds_bucket", labels(**route, le="0.0025"))] == 1
    failing = {"deployment": "churn", "version": "4", "route": "challenger"}
    assert found[("steward_request_errors_total", labels(**failing))] == 1
    assert ("steward_request_errors_total", labels(**route)) not in found
    assert 'steward_requests_total{deployment="churn"' in metrics.render()[0].decode()


def test_latency_buckets_span_half_a_millisecond_to_ten_seconds() -> None:
    assert LATENCY_BUCKETS[0] == 0.0005 and LATENCY_BUCKETS[-1] == 10.0
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


def test_in_flight_counts_requests_being_served_even_when_they_fail() -> None:
    metrics = ServingMetrics(gpu=False)
    key = ("steward_in_flight_requests", labels(deployment="churn"))
    with metrics.in_flight("churn"), metrics.in_flight("churn"):
        assert samples(metrics)[key] == 2
    with pytest.raises(RuntimeError), metrics.in_flight("churn"):
        raise RuntimeError("model crashed")
    assert samples(metrics)[key] == 0


def test_two_instances_do_not_collide() -> None:
    first, second = ServingMetrics(gpu=False), ServingMetrics(gpu=False)
    first.observe("churn", 1, "direct", 200, 0.01)
    assert (
        "steward_requests_total",
        labels(deployment="churn", version="1", route="direct", status="200"),
    ) in samples(first)
    assert not [name for name, _ in samples(second) if name == "steward_requests_total"]


def test_process_and_platform_metrics_are_included() -> None:
    names = {name for name, _ in samples(ServingMetrics(gpu=False))}
    assert "python_info" in names
    if sys.platform.startswith("linux"):
        assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= names


def fake_nvml(*, fails: bool = False) -> types.ModuleType:
    def init() -> None:
        if fails:
            raise RuntimeError("NVML Shared Library Not Found")

    module = types.ModuleType("pynvml")
    attrs: dict[str, Any] = {
        "nvmlInit": init,
        "nvmlDeviceGetCount": lambda: 2,
        "nvmlDeviceGetHandleByIndex": lambda index: index,
        "nvmlDeviceGetUtilizationRates": lambda handle: types.SimpleNamespace(gpu=40 + handle),
        "nvmlDeviceGetMemoryInfo": lambda handle: types.SimpleNamespace(used=1024, total=8192),
    }
    for name, value in attrs.items():
        setattr(module, name, value)
    return module


def test_gpu_gauges_come_from_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml())
    found = samples(ServingMetrics())
    assert found[("steward_gpu_utilization_ratio", labels(gpu="1"))] == pytest.approx(0.41)
    assert found[("steward_gpu_memory_used_bytes", labels(gpu="0"))] == 1024
    assert found[("steward_gpu_memory_total_bytes", labels(gpu="0"))] == 8192


def test_gpu_gauges_are_absent_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(fails=True))
    assert not [name for name, _ in samples(ServingMetrics()) if name.startswith("steward_gpu")]
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed: import fails
    assert ServingMetrics().gpu is None
