"""CPU, memory and GPU over an operations window, from the serving processes' samples.

``serving.resources`` writes one row per process every few seconds; here DuckDB reads the
hours the window touches. Usage is of the serving processes, not of one deployment:
every deployment a process serves shares its CPU and memory. CPU is the mean percent of
one core over the window's samples (a normal band), memory and GPU memory the largest
resident size seen, GPU utilisation the mean busy share; no samples (or no GPU) give
"not enough data" with the reason, never a zero.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import fsspec
import pyarrow.dataset as ds

from modelsteward.monitoring.bands import Z95, Estimate, missing
from modelsteward.monitoring.windows import run_sql
from modelsteward.serving.predlog import duckdb_connection, hour_of, part_files
from modelsteward.serving.resources import FOLDER, SCHEMA

MIB = 1024 * 1024
NAMES = ("cpu_percent", "memory_mb", "gpu_utilization", "gpu_memory_mb")


def _files(fs: Any, path: str, start: datetime, end: datetime) -> list[str]:
    root = f"{path.rstrip('/')}/{FOLDER}"
    if not fs.isdir(root):
        return []
    low, high = hour_of(start), hour_of(end)
    found = []
    for entry in sorted(str(p).rstrip("/") for p in fs.ls(root, detail=False)):
        hour = entry.rsplit("/", 1)[-1].removeprefix("hour=")
        if low <= hour <= high:
            found += part_files(fs, entry)
    return found


def resource_usage(logs_url: str, start: datetime | None, end: datetime) -> dict[str, Estimate]:
    """The four resource metrics over ``[start, end)`` (the last hour when start is None)."""
    start = start or end - timedelta(hours=1)
    fs, path = fsspec.core.url_to_fs(logs_url.rstrip("/"))
    files = _files(fs, str(path), start, end)
    if not files:
        note = "no resource samples in the window (STEWARD_RESOURCE_SAMPLE_SECONDS)"
        return {name: missing(note) for name in NAMES}
    with duckdb_connection() as con:  # a dataset reads local and object storage alike
        con.register("samples", ds.dataset(files, schema=SCHEMA, format="parquet", filesystem=fs))
        n, cpu, cpu_sd, memory, gpu_n, gpu, gpu_memory = run_sql(
            con,
            "SELECT count(*), avg(cpu_percent), stddev_samp(cpu_percent), max(memory_bytes), "
            "count(gpu_utilization), avg(gpu_utilization), max(gpu_memory_bytes) "
            "FROM samples "
            'WHERE "at" >= $start AND "at" < $end',
            {"start": start, "end": end},
        )[0]
    if n == 0:
        note = "no resource samples in the window (STEWARD_RESOURCE_SAMPLE_SECONDS)"
        return {name: missing(note) for name in NAMES}
    half = Z95 * cpu_sd / math.sqrt(n) if cpu_sd is not None and n > 1 else math.nan
    out = {
        "cpu_percent": Estimate(float(cpu), max(cpu - half, 0.0), cpu + half, int(n)),
        "memory_mb": Estimate(float(memory) / MIB, n=int(n)),
    }
    if gpu_n:
        out["gpu_utilization"] = Estimate(float(gpu), n=int(gpu_n))
        out["gpu_memory_mb"] = Estimate(float(gpu_memory) / MIB, n=int(gpu_n))
    else:
        out["gpu_utilization"] = missing("no GPU answered NVML in the serving processes", int(n))
        out["gpu_memory_mb"] = missing("no GPU answered NVML in the serving processes", int(n))
    return out
