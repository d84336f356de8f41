"""A deployment's routes drawn as a traffic split: one stacked bar, plus mirror lanes.

The bar is the traffic that gets an answer, split between the champion and the
challenger by weight. Each shadow gets a dashed lane of its own underneath: it sees a
copy of every request, but its answers are only logged. A label that does not fit in
its segment (a 5% canary) sits above the bar, pointing at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from modelsteward.web.svg import document, fmt, text, title

WIDTH = 760
LEFT, RIGHT = 84, 8
BAR_H, SHADOW_H, GAP = 40, 30, 10
CALLOUT_H = 24
CHAR_W = 7.2  # a generous average glyph width at the label size, to decide what fits
ANSWERING = ("champion", "challenger")


@dataclass(frozen=True)
class Segment:
    version: int
    role: str
    weight: int
    x: float
    width: float

    @property
    def label(self) -> str:
        return f"v{self.version} {self.role} {self.weight}%"

    @property
    def fits(self) -> bool:
        return self.width >= len(self.label) * CHAR_W + 18


def segments(routes: Sequence[dict[str, Any]]) -> list[Segment]:
    """Answering routes laid out left to right across the bar, champion first."""
    answering = sorted(
        (r for r in routes if r.get("role") in ANSWERING),
        key=lambda r: (ANSWERING.index(r["role"]), r["version"]),
    )
    total = sum(max(int(r.get("weight", 0)), 0) for r in answering) or 1
    span = WIDTH - LEFT - RIGHT
    placed, x = [], float(LEFT)
    for route in answering:
        weight = max(int(route.get("weight", 0)), 0)
        width = span * weight / total
        placed.append(Segment(int(route["version"]), route["role"], weight, x, width))
        x += width
    return placed


def _label(x: float, y: float, segment: Segment, css: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{fmt(x)}" y="{fmt(y)}" class="{css}" text-anchor="{anchor}">'
        f'<tspan class="split-version">v{segment.version}</tspan> '
        f"{escape(segment.role)} {segment.weight}%</text>"
    )


def _callout(segment: Segment, bar_y: float) -> str:
    """A label above the bar for a segment too narrow to hold it, with a pointer."""
    center = segment.x + segment.width / 2
    half = len(segment.label) * CHAR_W / 2
    x, anchor = center, "middle"
    if center + half > WIDTH - RIGHT:
        x, anchor = WIDTH - RIGHT, "end"
    elif center - half < LEFT:
        x, anchor = LEFT, "start"
    pointer = (
        f'<line x1="{fmt(center)}" x2="{fmt(center)}" y1="{fmt(bar_y - 8)}" '
        f'y2="{fmt(bar_y - 1)}" class="split-pointer"/>'
    )
    css = f"split-callout split-{segment.role}-text"
    return pointer + _label(x, bar_y - 11, segment, css, anchor)


def traffic_split_svg(routes: Sequence[dict[str, Any]]) -> Markup | None:
    """The split of ``routes``, or None when nothing is routed."""
    answering = segments(routes)
    shadows = sorted((r for r in routes if r.get("role") == "shadow"), key=lambda r: r["version"])
    if not answering and not shadows:
        return None
    bar_y = CALLOUT_H if any(not s.fits for s in answering) else 4
    lane_y = bar_y + BAR_H / 2 + 4
    body: list[str] = [text(0, lane_y, "Answers", "split-lane-label", anchor="start")]
    for segment in answering:
        css = f"split-segment split-{segment.role}"
        if segment.width < 3:  # a drained challenger: a sliver that still marks its place
            body.append(
                f'<rect x="{fmt(min(segment.x, WIDTH - RIGHT - 3))}" y="{fmt(bar_y)}" width="3" '
                f'height="{BAR_H}" rx="1.5" class="{css} is-drained"/>'
            )
        else:
            body.append(
                f'<rect x="{fmt(segment.x + 1)}" y="{fmt(bar_y)}" width="{fmt(segment.width - 2)}" '
                f'height="{BAR_H}" rx="5" class="{css}">{title(segment.label)}</rect>'
            )
        if segment.fits:
            middle = segment.x + segment.width / 2
            body.append(_label(middle, bar_y + BAR_H / 2 + 4.5, segment, "split-inside"))
        else:
            body.append(_callout(segment, bar_y))
    axis_y = bar_y + BAR_H + 14
    span = WIDTH - LEFT - RIGHT
    for share in (0, 25, 50, 75, 100):
        anchor = "start" if share == 0 else ("end" if share == 100 else "middle")
        x = LEFT + span * share / 100
        body.append(text(x, axis_y, f"{share}%", "chart-tick", anchor=anchor))
    y = axis_y + GAP
    for route in shadows:
        body.append(text(0, y + SHADOW_H / 2 + 4, "Mirror", "split-lane-label", anchor="start"))
        body.append(
            f'<rect x="{LEFT + 1}" y="{fmt(y)}" width="{fmt(span - 2)}" height="{SHADOW_H}" '
            f'rx="5" class="split-shadow"/>'
        )
        body.append(
            f'<text x="{LEFT + 14}" y="{fmt(y + SHADOW_H / 2 + 4.5)}" class="split-shadow-text">'
            f'<tspan class="split-version">v{int(route["version"])}</tspan> shadow · '
            "a copy of every request; its answers are only logged</text>"
        )
        y += SHADOW_H + GAP
    height = (y - GAP if shadows else axis_y) + 6
    described = [s.label for s in answering] + [f"v{r['version']} shadow" for r in shadows]
    return document(
        WIDTH, height, body, label="Traffic split: " + ", ".join(described), css="traffic-split"
    )
