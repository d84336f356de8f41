"""A monitored metric over time: its values, uncertainty band and threshold, as inline SVG.

Points sit at their window's end time, so irregular runs are spaced truly. The band
(``low``..``high``) is drawn under the line so a small window's wide band is visible
before anyone reads a change into it; the threshold is a dashed line; breached
points are red dots. Every point has a hover target with its time, value and status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup

from modelsteward.monitoring.views import PointView
from modelsteward.web.series_charts import nice_ceiling
from modelsteward.web.svg import document, fmt, text, title

WIDTH, HEIGHT = 360, 160
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 14, 26
# The first and last points sit this far inside the plot, so the newest run's dot (often
# minutes after the one before it) does not sit on the right edge.
INSET = 14


def _tick(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.3g}"


def _value(point: PointView) -> str:
    return "—" if point.value is None else f"{point.value:.4g}"


def _describe(point: PointView) -> str:
    parts = [f"{point.window_end:%Y-%m-%d %H:%M} UTC", f"{point.metric} {_value(point)}"]
    if point.low is not None and point.high is not None:
        parts.append(f"band {point.low:.3g}–{point.high:.3g}")
    if point.threshold is not None:
        parts.append(f"threshold {point.threshold:.3g}")
    parts.append(point.status)
    return ", ".join(parts)


def _time_label(moment: datetime, span_s: float) -> str:
    return f"{moment:%H:%M}" if span_s < 36 * 3600 else f"{moment:%d %b}"


def metric_chart(label: str, points: Sequence[PointView]) -> Markup:
    """One metric's points in time order (oldest first); an empty chart says so."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body: list[str] = []
    if not points:
        body.append(text(WIDTH / 2, HEIGHT / 2, "no runs yet", "chart-tick"))
        return document(WIDTH, HEIGHT, body, label=label, css="metric-chart monitor-chart")
    values = [p.value for p in points if p.value is not None]
    reach = [
        *values,
        *(p.high for p in points if p.high is not None),
        *(p.threshold for p in points if p.threshold is not None),
    ]
    low_end = min([0.0, *values, *(p.low for p in points if p.low is not None)])
    top = nice_ceiling(max(reach, default=1.0) - low_end) + low_end if reach else 1.0
    first, last = points[0].window_end, points[-1].window_end
    span = max((last - first).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        if len(points) == 1:
            return LEFT + plot_w / 2
        return LEFT + INSET + (plot_w - 2 * INSET) * (moment - first).total_seconds() / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low_end) / (top - low_end or 1.0))

    for value in (low_end, (low_end + top) / 2, top):
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{fmt(y(value))}" y2="{fmt(y(value))}" '
            'class="chart-gridline"/>'
        )
        body.append(text(LEFT - 6, y(value) + 4, _tick(value), "chart-tick", anchor="end"))
    body.append(text(LEFT, HEIGHT - 7, _time_label(first, span), "chart-tick", anchor="start"))
    if len(points) > 1:
        body.append(
            text(WIDTH - RIGHT, HEIGHT - 7, _time_label(last, span), "chart-tick", anchor="end")
        )
    banded = [p for p in points if p.low is not None and p.high is not None]
    if len(banded) > 1:
        upper = " ".join(f"{fmt(x(p.window_end))},{fmt(y(p.high or 0))}" for p in banded)
        lower = " ".join(f"{fmt(x(p.window_end))},{fmt(y(p.low or 0))}" for p in reversed(banded))
        body.append(f'<polygon points="{upper} {lower}" class="monitor-band"/>')
    thresholds = [p for p in points if p.threshold is not None]
    if thresholds:
        steps = " ".join(f"{fmt(x(p.window_end))},{fmt(y(p.threshold or 0))}" for p in thresholds)
        if len(thresholds) == 1:
            level = fmt(y(thresholds[0].threshold or 0))
            steps = f"{LEFT},{level} {WIDTH - RIGHT},{level}"
        body.append(f'<polyline points="{steps}" class="monitor-threshold"/>')
    valued = [p for p in points if p.value is not None]
    if len(valued) > 1:
        line = " ".join(f"{fmt(x(p.window_end))},{fmt(y(p.value or 0))}" for p in valued)
        body.append(f'<polyline points="{line}" class="chart-series monitor-line"/>')
    for p in valued:
        css = "monitor-dot is-breached" if p.status == "breached" else "monitor-dot"
        body.append(
            f'<circle cx="{fmt(x(p.window_end))}" cy="{fmt(y(p.value or 0))}" r="3" '
            f'class="{css}">{title(_describe(p))}</circle>'
        )
    return document(WIDTH, HEIGHT, body, label=label, css="metric-chart monitor-chart")
