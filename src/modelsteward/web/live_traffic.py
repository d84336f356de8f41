"""A deployment's last hour, read from the prediction log and bucketed per minute.

Requests, latency and errors count what callers saw (champion and challenger answers);
shadow copies are mirrored work whose answers nobody receives, so they are counted
apart. An error is a 5xx answer, as in the Prometheus metrics; 4xx answers are requests
the service rejected (bad input) and are reported as such. Only records the log has
flushed are seen, so the newest second or so may be missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from modelsteward.serving.predlog import TIMESTAMP, PredictionLog, read_parts

WINDOW_MINUTES = 60
RECENT_MINUTES = 5
# The columns the page needs: the logged inputs and outputs stay on disk.
COLUMNS = pa.schema(
    [
        ("at", TIMESTAMP),
        ("version", pa.int64()),
        ("route", pa.string()),
        ("latency_ms", pa.float64()),
        ("status", pa.int32()),
    ]
)
_MINUTE_US = 60_000_000


@dataclass(frozen=True)
class VersionTraffic:
    """How much of the hour's traffic one version answered, and how much of it failed."""

    version: int
    route: str
    requests: int
    share: float
    errors: int


@dataclass(frozen=True)
class LiveTraffic:
    """Per-minute series (oldest first, the minute up to now last) and totals of the window."""

    since: datetime
    until: datetime
    requests_per_minute: list[int]
    p50_ms: list[float | None]
    p95_ms: list[float | None]
    error_pct: list[float | None]
    requests: int
    errors: int
    rejected: int
    p50: float | None
    p95: float | None
    error_rate: float | None
    recent_rate: float
    by_version: list[VersionTraffic]
    shadow_copies: int
    shadow_errors: int


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last ``WINDOW_MINUTES`` minutes up to ``now``.

    Buckets are the minutes counted back from now, not clock minutes, so the newest one
    is a whole minute too and a chart never ends in a dip that is only a partial bucket.
    """
    until = (now or datetime.now(UTC)).astimezone(UTC)
    return until - timedelta(minutes=WINDOW_MINUTES), until


def read_window(log: PredictionLog, deployment: str, since: datetime, until: datetime) -> pa.Table:
    """Flushed records of ``deployment`` in ``[since, until)``, only the needed columns."""
    return read_parts(log.fs, log.files(deployment, since, until), COLUMNS, since, until)


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def summarize(table: pa.Table, since: datetime, until: datetime) -> LiveTraffic:
    """Bucket the records of ``[since, until)`` by minute and total them."""
    minutes = round((until - since).total_seconds() / 60)
    at = table.column("at").cast(pa.int64()).to_numpy()
    route = table.column("route").to_numpy(zero_copy_only=False)
    status = table.column("status").to_numpy()
    latency = table.column("latency_ms").to_numpy()
    version = table.column("version").to_numpy()
    bucket = (at - int(since.timestamp() * 1_000_000)) // _MINUTE_US
    inside = (bucket >= 0) & (bucket < minutes)
    shadow = route == "shadow"
    answered = inside & ~shadow
    failed = status >= 500

    minute, lat, bad = bucket[answered], latency[answered], failed[answered]
    order = np.argsort(minute, kind="stable")
    minute, lat, bad = minute[order], lat[order], bad[order]
    edges = np.searchsorted(minute, np.arange(minutes + 1))
    counts, p50s, p95s, error_pcts = [], [], [], []
    for i in range(minutes):
        part = slice(edges[i], edges[i + 1])
        count = int(edges[i + 1] - edges[i])
        counts.append(count)
        p50s.append(_percentile(lat[part], 50))
        p95s.append(_percentile(lat[part], 95))
        error_pcts.append(100.0 * float(bad[part].sum()) / count if count else None)

    total = int(answered.sum())
    errors = int((answered & failed).sum())
    recent = sum(counts[-RECENT_MINUTES:])
    return LiveTraffic(
        since=since,
        until=until,
        requests_per_minute=counts,
        p50_ms=p50s,
        p95_ms=p95s,
        error_pct=error_pcts,
        requests=total,
        errors=errors,
        rejected=int((answered & (status >= 400) & (status < 500)).sum()),
        p50=_percentile(lat, 50),
        p95=_percentile(lat, 95),
        error_rate=100.0 * errors / total if total else None,
        recent_rate=recent / RECENT_MINUTES,
        by_version=_by_version(version[answered], route[answered], failed[answered], total),
        shadow_copies=int((inside & shadow).sum()),
        shadow_errors=int((inside & shadow & failed).sum()),
    )


def _by_version(
    version: np.ndarray, route: np.ndarray, failed: np.ndarray, total: int
) -> list[VersionTraffic]:
    found: list[VersionTraffic] = []
    for number in sorted({int(v) for v in version}):
        mine = version == number
        roles = sorted({str(r) for r in route[mine]})
        count = int(mine.sum())
        found.append(
            VersionTraffic(
                version=number,
                route=" / ".join(roles),
                requests=count,
                share=100.0 * count / total,
                errors=int((mine & failed).sum()),
            )
        )
    return found


def live_traffic(log: PredictionLog, deployment: str, now: datetime | None = None) -> LiveTraffic:
    since, until = window(now)
    return summarize(read_window(log, deployment, since, until), since, until)
