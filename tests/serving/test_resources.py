"""Each serving process samples its CPU, memory and GPU into the log; operations monitors
read them over their window."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
from tests.helpers import settings_for

from modelsteward.context import Steward
from modelsteward.monitoring.families.operations.resources import resource_usage
from modelsteward.serving.resources import FOLDER, ResourceSampler
from modelsteward.serving.service import Serving


def busy(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sum(i * i for i in range(1000))


def test_samples_measure_cpu_and_memory_and_are_all_written_on_stop(tmp_path: Path) -> None:
    sampler = ResourceSampler(str(tmp_path), interval_s=0.05, flush_s=3600)
    began = datetime.now(UTC)
    sampler.start()
    busy(0.6)
    sampler.stop()

    parts = list((tmp_path / FOLDER).glob("hour=*/part-*.parquet"))
    assert parts and not list((tmp_path / FOLDER).glob("hour=*/.tmp-*"))
    rows = sum(pq.read_table(p).num_rows for p in parts)
    assert rows >= 5
    usage = resource_usage(str(tmp_path), began, datetime.now(UTC) + timedelta(seconds=1))
    assert usage["cpu_percent"].value is not None and usage["cpu_percent"].value > 30
    assert usage["cpu_percent"].n == rows
    assert usage["memory_mb"].value is not None and usage["memory_mb"].value > 10
    gpu = usage["gpu_utilization"]
    assert gpu.value is None and "no GPU" in gpu.note


def test_without_samples_the_metrics_say_why_instead_of_zero(tmp_path: Path) -> None:
    usage = resource_usage(str(tmp_path), None, datetime.now(UTC))
    assert all(e.value is None and "no resource samples" in e.note for e in usage.values())


def test_a_serving_process_samples_on_the_configured_interval(tmp_path: Path) -> None:
    steward = Steward(settings_for(tmp_path, STEWARD_RESOURCE_SAMPLE_SECONDS="0.05"))
    serving = Serving(steward)
    serving.start()
    time.sleep(0.4)
    serving.stop()
    steward.close()
    assert list(Path(steward.settings.logs_url).glob(f"{FOLDER}/hour=*/part-*.parquet"))


def test_sampling_can_be_switched_off(tmp_path: Path) -> None:
    sampler = ResourceSampler(str(tmp_path), interval_s=0)
    sampler.start()
    sampler.stop()
    assert not (tmp_path / FOLDER).exists()
