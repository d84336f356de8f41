"""Rendering a report as one HTML file: inline CSS and SVG, no script, no network."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from modelsteward.monitoring.report.svg import overlay

if TYPE_CHECKING:
    from modelsteward.monitoring.report.build import Report


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelsteward.monitoring.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["number"] = _number
    return env


def _number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    if value != 0 and (abs(value) < 10 ** -(digits - 1) or abs(value) >= 10**6):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def render_html(report: Report) -> str:
    drawings = {d.column: Markup(overlay(d)) for d in report.distributions}  # noqa: S704
    quality = {c.column: c for c in report.quality.columns}
    return (
        _environment()
        .get_template("report.html")
        .render(report=report, drawings=drawings, quality=quality)
    )
