"""The last hour of a deployment's traffic: per-minute buckets, percentiles and totals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.web.live_traffic import COLUMNS, live_traffic, summarize, window
from modelsteward.web.series_charts import Line, nice_ceiling, series_chart

NOW = datetime(2025, 6, 1, 12, 30, 20, tzinfo=UTC)


def table(rows: list[tuple[datetime, int, str, float, int]]) -> pa.Table:
    names = COLUMNS.names
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}, schema=COLUMNS)


def test_the_window_is_the_sixty_minutes_up_to_now() -> None:
    assert window(NOW) == (NOW - timedelta(minutes=60), NOW)


def test_requests_latency_and_errors_are_bucketed_per_minute() -> None:
    since, until = window(NOW)
    current = NOW - timedelta(seconds=15)
    earlier = current - timedelta(minutes=10)
    rows = [(earlier, 1, "champion", float(ms), 200) for ms in range(1, 101)]
    rows += [(current, 2, "challenger", 10.0, 200), (current, 2, "challenger", 30.0, 503)]
    rows += [(current, 1, "champion", 20.0, 422)]
    rows += [(current, 3, "shadow", 999.0, 500)]  # mirrored: counted apart
    rows += [(since - timedelta(seconds=1), 1, "champion", 5.0, 200)]  # outside the window
    live = summarize(table(rows), since, until)
    assert len(live.requests_per_minute) == 60
    assert live.requests_per_minute[-1] == 3 and live.requests_per_minute[-11] == 100
    assert sum(live.requests_per_minute) == live.requests == 103
    assert live.p50_ms[-11] == 50.5 and round(live.p95_ms[-11] or 0, 2) == 95.05
    assert live.p50_ms[-1] == 20.0 and live.error_pct[-1] == 100 / 3
    assert live.p50_ms[0] is None and live.error_pct[0] is None  # no requests, no value
    assert (live.errors, live.rejected, live.shadow_copies, live.shadow_errors) == (1, 1, 1, 1)
    assert live.error_rate == 100 / 103
    assert live.recent_rate == 3 / 5  # the busy minute is ten minutes back
    shares = {(v.version, v.route): (v.requests, v.errors) for v in live.by_version}
    assert shares == {(1, "champion"): (101, 0), (2, "challenger"): (2, 1)}


def test_an_empty_log_gives_zero_requests_and_no_latency() -> None:
    since, until = window(NOW)
    live = summarize(COLUMNS.empty_table(), since, until)
    assert live.requests_per_minute == [0] * 60 and live.requests == 0
    assert live.p50 is None and live.error_rate is None and live.by_version == []


def test_records_are_read_back_from_the_prediction_log(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with PredictionLog(str(tmp_path / "logs")) as log:
        for i in range(5):
            log.record(
                PredictionRecord(
                    request_id=f"r{i}",
                    at=now - timedelta(minutes=i),
                    deployment="churn-production",
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[{"age": 40}],
                    outputs=[0.2],
                    latency_ms=2.0 + i,
                    status=200,
                )
            )
        log.flush()
        live = live_traffic(log, "churn-production", now + timedelta(seconds=1))
        assert live.requests == 5 and live.p50 == 4.0
        assert live_traffic(log, "nothing-here", now).requests == 0


def test_round_axis_tops() -> None:
    tops = [nice_ceiling(v) for v in (0, 0.3, 1, 3, 7, 11, 52, 180, 2400)]
    assert tops == [1, 0.3, 1, 3, 8, 12, 60, 200, 2500]


def test_a_series_chart_breaks_its_line_where_minutes_have_no_value() -> None:
    values = [None, 1.0, 2.0, None, 3.0, None]
    hover = [f"minute {i} <b>" for i in range(6)]
    svg = str(series_chart("Latency", [Line("p50", values, "live-p50")], hover))
    assert svg.count('class="chart-series live-p50"') == 1  # minutes 1-2
    assert svg.count('class="chart-dot live-p50"') == 1  # minute 4 stands alone
    assert svg.count('class="chart-hover"') == 6
    assert "minute 0 &lt;b&gt;" in svg and "<b>" not in svg
    assert re.search(r">now</text>", svg) and 'aria-label="Latency"' in svg
