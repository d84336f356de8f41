"""Operations metrics from the log: latency quantiles, throughput and error rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from tests.monitoring.test_runner import Deployed, deployed  # noqa: F401 (fixture)

from modelsteward.monitoring.families.operations.traffic import operations
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def write_requests(root: str, latencies: np.ndarray, statuses: list[int]) -> None:
    with PredictionLog(root) as log:
        for i, (latency, status) in enumerate(zip(latencies, statuses, strict=True)):
            log.record(
                PredictionRecord(
                    request_id=f"r{i}",
                    at=NOW - timedelta(seconds=3600 - i),
                    deployment="churn",
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[{"x": 1}] if status == 200 else [],
                    outputs=[0] if status == 200 else [],
                    latency_ms=float(latency),
                    status=status,
                )
            )


def test_latency_quantiles_error_rate_and_throughput(tmp_path: Path) -> None:
    root = str(tmp_path / "logs")
    latencies = np.random.default_rng(0).lognormal(1.0, 0.5, 1000)
    statuses = [500 if i % 50 == 0 else 200 for i in range(1000)]
    write_requests(root, latencies, statuses)
    metrics, requests, start = operations(root, "churn", now=NOW, hours=1)
    assert requests == 1000 and start == NOW - timedelta(hours=1)
    for name, q in (("latency_p50_ms", 50), ("latency_p95_ms", 95), ("latency_p99_ms", 99)):
        estimate = metrics[name]
        assert estimate.value == pytest.approx(np.percentile(latencies, q), rel=1e-9)
        assert estimate.low <= estimate.value <= estimate.high  # type: ignore[operator]
    assert metrics["error_rate"].value == pytest.approx(0.02)
    assert metrics["throughput_rps"].value == pytest.approx(1000 / 3600)
    assert metrics["requests"].value == 1000


def test_the_last_n_requests_measure_throughput_over_their_own_span(tmp_path: Path) -> None:
    root = str(tmp_path / "logs")
    write_requests(root, np.ones(100), [200] * 100)
    metrics, requests, start = operations(root, "churn", now=NOW, last=11)
    assert requests == 11 and start == NOW - timedelta(seconds=3600 - 89)
    assert metrics["throughput_rps"].value == pytest.approx(11 / 10)


def test_an_empty_window_has_no_values(tmp_path: Path) -> None:
    metrics, requests, start = operations(str(tmp_path), "churn", now=NOW, hours=1)
    assert requests == 0 and start is None
    assert metrics["latency_p99_ms"].value is None and metrics["error_rate"].value is None


def test_the_operations_monitor_on_live_traffic(deployed: Deployed) -> None:  # noqa: F811
    for _ in range(5):
        deployed.send(3)
    bad = deployed.api.post(
        "/api/v1/deployments/churn-production/predict", json=[{"age": "old", "income": "x"}]
    )
    assert bad.status_code == 422
    result = deployed.run("operations")
    points = {p["metric"]: p for p in result["points"]}
    assert points["requests"]["value"] == 6
    # a 4xx is the caller's error, not the server's (the run's status is left alone: on a
    # loaded machine the first request's latency alone can pass the 1 s p99 threshold)
    assert points["error_rate"]["value"] == 0.0 and points["error_rate"]["status"] == "ok"
    assert points["error_rate"]["threshold"] == 0.05
    assert points["latency_p99_ms"]["value"] > 0 and points["latency_p99_ms"]["threshold"] == 1000


def test_the_operations_monitor_reports_the_serving_processes_cpu_and_memory(
    deployed: Deployed,  # noqa: F811
) -> None:
    from modelsteward.serving.resources import ResourceSampler

    deployed.send(3)
    sampler = ResourceSampler(deployed.steward.settings.logs_url, interval_s=3600)
    sampler.sample()
    sampler.sample()
    sampler.flush()
    points = {p["metric"]: p for p in deployed.run("operations")["points"]}
    assert points["cpu_percent"]["value"] >= 0 and points["cpu_percent"]["status"] == "ok"
    assert points["memory_mb"]["value"] > 10
    assert points["gpu_utilization"]["status"] == "not enough data"
    assert "no GPU" in points["gpu_utilization"]["detail"]["note"]
