"""Metrics across versions, drawn as small inline SVG line charts (one per metric).

Metrics live on different scales (an AUC near 1, an RMSE in the thousands), so each
gets its own chart and y-axis rather than sharing one that would flatten all but one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

from modelsteward.registry.views import VersionView
from modelsteward.web.svg import document, fmt, text

MAX_METRICS = 12
MAX_POINTS = 40
WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 12, 26
INSET = 14  # the first and last versions sit inside the plot, their labels too


@dataclass(frozen=True)
class MetricChart:
    metric: str
    svg: Markup
    latest: float
    latest_version: int
    lowest: float
    highest: float


def _numeric(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _tick(value: float) -> str:
    return f"{value:.3g}"


def _chart(metric: str, points: list[tuple[int, float]], versions: list[int]) -> Markup:
    low, high = min(p[1] for p in points), max(p[1] for p in points)
    pad = (high - low) * 0.12 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(len(versions) - 1, 1)
    position = {v: i for i, v in enumerate(versions)}

    def x(version: int) -> float:
        if len(versions) == 1:
            return LEFT + plot_w / 2
        return LEFT + INSET + (plot_w - 2 * INSET) * position[version] / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    body: list[str] = []
    for i in range(4):
        value = low + (high - low) * i / 3
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{fmt(y(value))}" y2="{fmt(y(value))}" '
            'class="chart-gridline"/>'
        )
        body.append(text(LEFT - 6, y(value) + 4, _tick(value), "chart-tick", anchor="end"))
    every = max(1, math.ceil(len(versions) / 8))
    for i, version in enumerate(versions):
        if i % every == 0 or i == len(versions) - 1:
            body.append(text(x(version), HEIGHT - 8, f"v{version}", "chart-tick"))
    line = " ".join(f"{fmt(x(v))},{fmt(y(value))}" for v, value in points)
    body.append(f'<polyline points="{line}" class="chart-line"/>')
    for i, (version, value) in enumerate(points):
        css = "chart-point is-latest" if i == len(points) - 1 else "chart-point"
        body.append(
            f'<circle cx="{fmt(x(version))}" cy="{fmt(y(value))}" r="3.5" class="{css}">'
            f"<title>v{version}: {value:.6g}</title></circle>"
        )
    label = f"{metric} across versions: " + ", ".join(f"v{v} {val:.4g}" for v, val in points)
    return document(WIDTH, HEIGHT, body, label=label, css="metric-chart")


def metric_charts(versions: list[VersionView]) -> list[MetricChart]:
    """One chart per numeric metric, over the newest ``MAX_POINTS`` versions."""
    ordered = sorted(versions, key=lambda v: v.version)[-MAX_POINTS:]
    series: dict[str, list[tuple[int, float]]] = {}
    for version in ordered:
        for name, raw in version.metrics.items():
            value = _numeric(raw)
            if value is not None:
                series.setdefault(name, []).append((version.version, value))
    numbers = [v.version for v in ordered]
    charts = []
    for name in sorted(series)[:MAX_METRICS]:
        points = series[name]
        charts.append(
            MetricChart(
                metric=name,
                svg=_chart(name, points, numbers),
                latest=points[-1][1],
                latest_version=points[-1][0],
                lowest=min(p[1] for p in points),
                highest=max(p[1] for p in points),
            )
        )
    return charts
