"""The traffic split drawing: weights as a stacked bar, shadows as dashed mirror lanes."""

from __future__ import annotations

import re

import pytest

from modelsteward.web.traffic_split import segments, traffic_split_svg

CANARY = [
    {"version": 3, "role": "champion", "weight": 90},
    {"version": 4, "role": "challenger", "weight": 10, "sticky": False},
]


def height_of(svg: str) -> float:
    found = re.search(r'<svg [^>]*height="([\d.]+)"', svg)
    assert found is not None
    return float(found.group(1))


def test_weights_split_the_bar_champion_first() -> None:
    placed = segments(list(reversed(CANARY)))
    assert [(s.version, s.role) for s in placed] == [(3, "champion"), (4, "challenger")]
    assert placed[0].width == pytest.approx(9 * placed[1].width)
    assert placed[1].x == placed[0].x + placed[0].width


def test_labels_that_fit_sit_inside_and_narrow_ones_above() -> None:
    svg = str(traffic_split_svg(CANARY))
    assert svg.count('class="split-inside"') == 1  # the champion's 90%
    assert svg.count("split-callout") == 1 and 'class="split-pointer"' in svg
    assert 'aria-label="Traffic split: v3 champion 90%, v4 challenger 10%"' in svg
    assert "split-shadow" not in svg


def test_even_split_fits_both_labels() -> None:
    svg = str(
        traffic_split_svg(
            [
                {"version": 1, "role": "champion", "weight": 50},
                {"version": 2, "role": "challenger", "weight": 50, "sticky": True},
            ]
        )
    )
    assert svg.count('class="split-inside"') == 2 and "split-callout" not in svg


def test_a_drained_challenger_keeps_a_marker() -> None:
    drained = [dict(CANARY[0], weight=100), dict(CANARY[1], weight=0)]
    svg = str(traffic_split_svg(drained))
    assert "is-drained" in svg and "challenger 0%" in svg


def test_shadows_get_dashed_mirror_lanes() -> None:
    routes = [
        {"version": 3, "role": "champion", "weight": 100},
        {"version": 5, "role": "shadow", "weight": 0},
        {"version": 6, "role": "shadow", "weight": 0},
    ]
    svg = str(traffic_split_svg(routes))
    assert svg.count('class="split-shadow"') == 2 and svg.count(">Mirror</text>") == 2
    assert "champion 100%" in svg and re.search(r"v5</tspan> shadow", svg)
    assert height_of(svg) > height_of(str(traffic_split_svg(routes[:1])))


def test_nothing_routed_draws_nothing() -> None:
    assert traffic_split_svg([]) is None
