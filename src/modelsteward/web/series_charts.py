"""Per-minute series over the last hour, drawn as small inline SVG line charts.

The y-axis starts at zero and ends at a round number, so a quiet hour does not look
like a storm. A minute without requests has no latency or error rate: the line breaks
there rather than dropping to zero. Each minute has a hover target with its values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from modelsteward.web.svg import document, fmt, text, title

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 24
_STEPS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


@dataclass(frozen=True)
class Line:
    """One series: a value per minute, None where there is nothing to show; ``css`` colours it."""

    name: str
    values: Sequence[float | None]
    css: str


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten)
    that is at least ``value``: the top of an axis whose middle is round too."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(round(step * power, 12) for step in _STEPS if step * power >= value * 0.9999)


def _tick(value: float) -> str:
    return f"{value:g}" if value >= 1 or value == 0 else f"{value:.2g}"


def _segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive minutes that have a value."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if run]


def series_chart(
    label: str, lines: Sequence[Line], hover: Sequence[str], *, area: bool = False
) -> Markup:
    """Lines over ``len(hover)`` minutes, oldest at the left and the minute up to now last.

    ``hover`` holds one description per minute (its time and values), shown on hover and
    read by assistive technology through the minute's ``<title>``.
    """
    minutes = len(hover)
    highest = max((v for line in lines for v in line.values if v is not None), default=0.0)
    top = nice_ceiling(highest)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(minutes - 1, 1)

    def x(i: float) -> float:
        return LEFT + step * i

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    body: list[str] = []
    for value in (0.0, top / 2, top):
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{fmt(y(value))}" y2="{fmt(y(value))}" '
            'class="chart-gridline"/>'
        )
        body.append(text(LEFT - 6, y(value) + 4, _tick(value), "chart-tick", anchor="end"))
    for i in [*range(0, minutes - 10, 15), minutes - 1]:
        caption = "now" if i == minutes - 1 else f"−{minutes - i}m"
        anchor = "end" if i == minutes - 1 else ("start" if i == 0 else "middle")
        body.append(text(x(i), HEIGHT - 6, caption, "chart-tick", anchor=anchor))
    for n, line in enumerate(lines):
        for run in _segments(line.values):
            points = " ".join(f"{fmt(x(i))},{fmt(y(v))}" for i, v in run)
            if area and n == 0 and len(run) > 1:
                base = fmt(y(0))
                body.append(
                    f'<polygon points="{fmt(x(run[0][0]))},{base} {points} '
                    f'{fmt(x(run[-1][0]))},{base}" class="chart-area"/>'
                )
            if len(run) == 1:
                i, v = run[0]
                body.append(
                    f'<circle cx="{fmt(x(i))}" cy="{fmt(y(v))}" r="2.2" '
                    f'class="chart-dot {line.css}"/>'
                )
            else:
                body.append(f'<polyline points="{points}" class="chart-series {line.css}"/>')
    for i, description in enumerate(hover):
        body.append(
            f'<rect x="{fmt(x(i) - step / 2)}" y="{TOP}" width="{fmt(step)}" '
            f'height="{fmt(plot_h)}" class="chart-hover">{title(description)}</rect>'
        )
    return document(WIDTH, HEIGHT, body, label=label, css="metric-chart live-chart")
