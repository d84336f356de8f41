"""The live section of a deployment page: the hour's totals and three per-minute charts.

Requests per minute, latency (p50 and p95) and error rate share one set of minutes, so
hovering a minute on any chart describes the same requests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from modelsteward.web.live_traffic import LiveTraffic
from modelsteward.web.series_charts import Line, series_chart


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.3g} ms"


def _pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}%" if value == 0 or value >= 10 else f"{value:.2g}%"


def live_context(live: LiveTraffic) -> dict[str, Any]:
    """Totals and the three charts of the live section."""
    hover = []
    for i, count in enumerate(live.requests_per_minute):
        label = (live.since + timedelta(minutes=i + 1)).strftime("minute to %H:%M:%S UTC")
        if count:
            hover.append(
                f"{label}: {count} request{'s' if count != 1 else ''}, "
                f"p50 {_ms(live.p50_ms[i])}, p95 {_ms(live.p95_ms[i])}, "
                f"errors {_pct(live.error_pct[i])}"
            )
        else:
            hover.append(f"{label}: no requests")
    rate = [float(c) for c in live.requests_per_minute]
    return {
        "live": live,
        "updated": datetime.now(UTC).strftime("%H:%M:%S UTC"),
        "ms": _ms,
        "pct": _pct,
        "rate_chart": series_chart(
            "Requests per minute, last hour",
            [Line("requests", rate, "live-rate")],
            hover,
            area=True,
        ),
        "latency_chart": series_chart(
            "Latency p50 and p95 in milliseconds, last hour",
            [Line("p95", live.p95_ms, "live-p95"), Line("p50", live.p50_ms, "live-p50")],
            hover,
        ),
        "error_chart": series_chart(
            "Error rate in percent (5xx answers), last hour",
            [Line("errors", live.error_pct, "live-errors")],
            hover,
        ),
    }
