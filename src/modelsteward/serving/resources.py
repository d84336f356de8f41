"""CPU, memory and GPU of each serving process, sampled into the log for monitoring.

Prometheus shows these now; an ``operations`` monitor needs them over its window. A
background thread samples every ``interval_s`` (``STEWARD_RESOURCE_SAMPLE_S``, 10 s):
the process's CPU use since the last sample (percent of one core, all threads), its
resident memory and, where NVML answers, GPU utilisation and memory in use summed
over the GPUs it sees. Samples are written once a minute (and on stop) as small
Parquet parts under ``{logs}/resources/hour=.../``, named by host and process, with
the prediction log's write-then-rename, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from modelsteward.serving.predlog import hour_of

log = logging.getLogger(__name__)
FOLDER = "resources"
SCHEMA = pa.schema(
    [
        ("at", pa.timestamp("us", tz="UTC")),
        ("host", pa.string()),
        ("pid", pa.int32()),
        ("cpu_percent", pa.float64()),
        ("memory_bytes", pa.int64()),
        ("gpu_utilization", pa.float64()),
        ("gpu_memory_bytes", pa.int64()),
    ]
)
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory now (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE
    except OSError:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


class ResourceSampler:
    """Samples this process every ``interval_s``; writes them every ``flush_s``."""

    def __init__(
        self,
        logs_url: str,
        *,
        interval_s: float = 10.0,
        flush_s: float = 60.0,
        gpu: Any = None,
    ) -> None:
        self.fs, path = fsspec.core.url_to_fs(logs_url.rstrip("/"))
        self.root = f"{str(path).rstrip('/')}/{FOLDER}"
        self.interval_s, self.flush_s, self.gpu = interval_s, flush_s, gpu
        self.host, self.pid = socket.gethostname()[:64], os.getpid()
        self.rows: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = (time.monotonic(), time.process_time())

    def sample(self) -> dict[str, Any]:
        """One sample now; CPU is the use since the previous sample."""
        wall, cpu = time.monotonic(), time.process_time()
        (last_wall, last_cpu), self._last = self._last, (wall, cpu)
        row: dict[str, Any] = {
            "at": datetime.now(UTC),
            "host": self.host,
            "pid": self.pid,
            "cpu_percent": 100.0 * (cpu - last_cpu) / max(wall - last_wall, 1e-6),
            "memory_bytes": resident_bytes(),
            "gpu_utilization": None,
            "gpu_memory_bytes": None,
        }
        if self.gpu is not None:
            try:
                nvml = self.gpu.nvml
                handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(self.gpu.count)]
                rates = [nvml.nvmlDeviceGetUtilizationRates(h).gpu for h in handles]
                used = [nvml.nvmlDeviceGetMemoryInfo(h).used for h in handles]
                row["gpu_utilization"] = sum(rates) / (100.0 * len(rates))
                row["gpu_memory_bytes"] = int(sum(used))
            except Exception:  # a GPU that stops answering must not stop the sampling
                log.debug("NVML did not answer", exc_info=True)
        self.rows.append(row)
        return row

    def flush(self) -> int:
        """Write the samples taken so far as one part per hour; how many were written."""
        rows, self.rows = self.rows, []
        by_hour: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_hour.setdefault(hour_of(row["at"]), []).append(row)
        for hour, part in by_hour.items():
            folder = f"{self.root}/hour={hour}"
            self.fs.makedirs(folder, exist_ok=True)
            name = f"{self.host}-{self.pid}-{uuid.uuid4().hex[:12]}.parquet"
            temporary, final = f"{folder}/.tmp-{name}", f"{folder}/part-{name}"
            with self.fs.open(temporary, "wb") as out:
                pq.write_table(pa.Table.from_pylist(part, schema=SCHEMA), out)
            self.fs.mv(temporary, final)
        return len(rows)

    def _run(self) -> None:
        flushed = time.monotonic()
        while not self._stop.wait(self.interval_s):
            self.sample()
            if time.monotonic() - flushed >= self.flush_s:
                self._flush_quietly()
                flushed = time.monotonic()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # a full disk must not take the server down; the log says why
            log.exception("could not write resource samples under %s", self.root)

    def start(self) -> None:
        if self.interval_s <= 0 or self._thread is not None:
            return
        self._last = (time.monotonic(), time.process_time())
        self._thread = threading.Thread(target=self._run, name="resource-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Take a last sample and write everything (a clean shutdown loses nothing)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._thread = None
        self.sample()
        self._flush_quietly()
