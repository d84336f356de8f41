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


NAMED_IN_HEADLINE = 8  # drifted features named in the headline; the table has them all


def headline(report: Report) -> dict[str, object]:
    """The drift card: the drifted features first, red when the share rule calls dataset
    drift, amber when some features drifted below it, green when none did."""
    drifted = report.drift.drifted_columns
    judged = sum(1 for c in report.drift.columns if c.drifted is not None)
    if not judged:
        return {"level": "other", "text": "not enough data", "names": [], "more": 0}
    level = "drift" if report.drift.dataset_drift else ("warn" if drifted else "ok")
    text = f"{len(drifted)} of {judged} features drifted" if drifted else "no drift"
    shown = drifted[:NAMED_IN_HEADLINE]
    return {"level": level, "text": text, "names": shown, "more": len(drifted) - len(shown)}


def render_html(report: Report) -> str:
    drawings = {d.column: Markup(overlay(d)) for d in report.distributions}  # noqa: S704
    quality = {c.column: c for c in report.quality.columns}
    return (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            drawings=drawings,
            quality=quality,
            headline=headline(report),
            issues=report.quality.issues,
        )
    )
