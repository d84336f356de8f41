"""Operations metrics from the prediction log: latency quantiles, throughput, error rate.

Computed with DuckDB aggregates straight over the Parquet partitions of the window, so
no request is materialised in Python whatever the window's size. Latency bands are the
distribution-free order-statistic interval of each quantile; the error rate (HTTP 5xx,
as ``steward_request_errors_total`` counts them) has a Wilson band, throughput a Poisson one.
Requests refused as the caller's mistake (HTTP 4xx) are counted apart, as
``caller_error_rate``: a caller sending bad requests cannot breach the model's error rate.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from modelsteward.monitoring.bands import Z95, Estimate, missing, proportion
from modelsteward.monitoring.windows import LogFiles, route_clause, run_sql, window_bounds
from modelsteward.serving.predlog import duckdb_connection

QUANTILES = {"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}


def _rank_levels(q: float, n: int) -> tuple[float, float]:
    """Quantile levels whose order statistics bound the q-quantile with 95% confidence."""
    half = Z95 * math.sqrt(n * q * (1 - q))
    low = max(math.floor(n * q - half), 1)
    high = min(math.ceil(n * q + half), n)
    return (low - 0.5) / n, (high - 0.5) / n


def operations(
    logs_url: str,
    deployment: str,
    *,
    now: datetime,
    hours: float | None = None,
    last: int | None = None,
    route: str | None = None,
) -> tuple[dict[str, Estimate], int, datetime | None]:
    """The window's metrics, how many requests it held, and when its first request came."""
    files = LogFiles(logs_url)
    start, end = window_bounds(
        files, deployment, hours=hours, last=last, now=now, route=route, requests=True
    )
    where = ['"at" < $end', route_clause(route)]
    params: dict[str, Any] = {"end": end}
    if hours is not None:
        where.append('"at" >= $start')
        params["start"] = start
    limit = f'ORDER BY "at" DESC LIMIT {int(last)}' if last is not None else ""
    with duckdb_connection() as con:
        files.open(con, files.files(deployment, start, end))
        run_sql(
            con,
            f"""CREATE TEMP TABLE requests AS SELECT "at", latency_ms, status FROM log
            WHERE {" AND ".join(where)} {limit}""",
            params,
        )
        n, errors, refused, first, latest = run_sql(
            con,
            "SELECT count(*), count(*) FILTER (WHERE status >= 500), "
            "count(*) FILTER (WHERE status >= 400 AND status < 500), "
            'epoch_us(min("at")), epoch_us(max("at")) '
            "FROM requests",
        )[0]
        if n == 0:
            empty = {name: missing("no requests in the window") for name in QUANTILES}
            empty["throughput_rps"] = missing("no requests in the window")
            empty["error_rate"] = missing("no requests in the window")
            empty["caller_error_rate"] = missing("no requests in the window")
            return empty | {"requests": Estimate(0.0, n=0)}, 0, None
        levels = list(QUANTILES.values())
        bands = [level for q in levels for level in _rank_levels(q, n)]
        values, limits = run_sql(
            con,
            "SELECT quantile_cont(latency_ms, $levels), quantile_disc(latency_ms, $bands) "
            "FROM requests",
            {"levels": levels, "bands": bands},
        )[0]
    out: dict[str, Estimate] = {}
    for k, name in enumerate(QUANTILES):
        out[name] = Estimate(float(values[k]), float(limits[2 * k]), float(limits[2 * k + 1]), n)
    seconds = hours * 3600 if hours is not None else (latest - first) / 1e6
    if seconds > 0:
        rate, half = n / seconds, Z95 * math.sqrt(n) / seconds
        out["throughput_rps"] = Estimate(rate, max(rate - half, 0.0), rate + half, n)
    else:
        out["throughput_rps"] = missing("the window spans no time", n)
    out["error_rate"] = proportion(int(errors), int(n))
    out["caller_error_rate"] = proportion(int(refused), int(n))
    out["requests"] = Estimate(float(n), n=int(n))
    return out, int(n), _utc(first) if hours is None else start


def _utc(epoch_us: int) -> datetime:
    return datetime.fromtimestamp(epoch_us / 1e6, tz=UTC)
