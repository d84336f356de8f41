"""Metric charts: one per numeric metric, each on its own scale, newest point marked."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from modelsteward.web.charts import metric_charts

if TYPE_CHECKING:
    from tests.web.conftest import MakeVersion


def test_one_chart_per_numeric_metric_in_version_order(make_version: MakeVersion) -> None:
    versions = [
        make_version(3, metrics={"auc": 0.9, "rmse": 1200.0}),
        make_version(1, metrics={"auc": 0.8, "note": "baseline", "flag": True}),
        make_version(2, metrics={"auc": 0.85, "bad": math.nan}),
    ]
    charts = metric_charts(versions)
    assert [c.metric for c in charts] == ["auc", "rmse"]
    auc = charts[0]
    assert (auc.latest, auc.latest_version, auc.lowest, auc.highest) == (0.9, 3, 0.8, 0.9)
    assert str(auc.svg).count("<circle") == 3 and str(auc.svg).count("is-latest") == 1
    assert "v1 0.8, v2 0.85, v3 0.9" in str(auc.svg)  # the accessible description
    assert str(charts[1].svg).count("<circle") == 1  # one point still draws


def test_a_constant_metric_still_gets_a_usable_scale(make_version: MakeVersion) -> None:
    charts = metric_charts([make_version(n, metrics={"loss": 0.0}) for n in (1, 2)])
    assert "nan" not in str(charts[0].svg).lower()


def test_the_first_and_last_versions_sit_inside_the_plot_not_on_its_edges(
    make_version: MakeVersion,
) -> None:
    from modelsteward.web.charts import LEFT, RIGHT, WIDTH

    versions = [make_version(n, metrics={"auc": 0.7 + n / 100}) for n in (1, 2, 3)]
    svg = str(metric_charts(versions)[0].svg)
    centres = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert min(centres) >= LEFT + 10
    assert max(centres) <= WIDTH - RIGHT - 10
