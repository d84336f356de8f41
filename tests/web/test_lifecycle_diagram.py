"""A life cycle is drawn left to right by depth, with the instance's path highlighted."""

from __future__ import annotations

import re

from modelsteward.lifecycle.spec import LifecycleSpec
from modelsteward.web.lifecycle_diagram import guard_label, layer, lifecycle_svg

STANDARD_LIKE = LifecycleSpec.model_validate(
    {
        "name": "review",
        "initial": "registered",
        "states": [
            {"name": "registered"},
            {"name": "validated"},
            {"name": "approved"},
            {
                "name": "live",
                "production": True,
                "timers": [{"after": "90d", "transition": "revalidate"}],
            },
            {"name": "rejected"},
            {"name": "retired", "terminal": True, "description": "kept <for> the record"},
        ],
        "transitions": [
            {
                "name": "validate",
                "from": "registered",
                "to": "validated",
                "trigger": "auto",
                "gates": [{"check": "tests_pass"}, {"check": "metric_threshold"}],
            },
            {
                "name": "approve",
                "from": "validated",
                "to": "approved",
                "gates": [{"approval": {"role": "risk-manager", "count": 2}}],
            },
            {"name": "reject", "from": ["validated", "approved"], "to": "rejected"},
            {"name": "go-live", "from": "approved", "to": "live"},
            {"name": "revalidate", "from": "live", "to": "registered"},
            {"name": "recheck", "from": "live", "to": "live", "trigger": "event:metric.breached"},
            {"name": "retire", "from": ["live", "rejected"], "to": "retired"},
        ],
    }
)


def test_states_sit_in_columns_by_their_longest_forward_path() -> None:
    columns = {name: placed.column for name, placed in layer(STANDARD_LIKE).items()}
    assert columns == {
        "registered": 0,
        "validated": 1,
        "approved": 2,
        "live": 3,
        "rejected": 3,
        "retired": 4,
    }
    rows = {name: placed.row for name, placed in layer(STANDARD_LIKE).items()}
    assert rows["live"] == 0 and rows["rejected"] == 1


def test_every_transition_is_drawn_once_per_source_and_back_edges_run_under_the_states() -> None:
    svg = str(lifecycle_svg(STANDARD_LIKE))
    drawn = re.findall(r'data-transition="([^"]+)"', svg)
    assert sorted(drawn) == sorted(
        [
            "validate",
            "approve",
            "reject",
            "reject",
            "go-live",
            "revalidate",
            "recheck",
            "retire",
            "retire",
        ]
    )
    back = re.search(r'data-transition="revalidate">.*?<path d="([^"]+)"', svg, re.S)
    assert back is not None and " Q" in back.group(1)  # a rounded path below, not a curve across
    height = float(re.search(r'height="([\d.]+)"', svg).group(1))
    lowest = max(float(y) for y in re.findall(r",([\d.]+)", back.group(1)))
    assert lowest < height


def test_the_current_state_and_the_path_taken_are_highlighted() -> None:
    svg = str(
        lifecycle_svg(
            STANDARD_LIKE,
            current="approved",
            taken=["validate", "approve"],
            visited=["registered", "validated"],
        )
    )
    assert svg.count("is-current") == 1
    assert 'class="mlc-state is-current" data-state="approved"' in svg
    assert svg.count("mlc-state is-visited") == 2
    assert svg.count('class="mlc-transition is-taken"') == 2
    assert 'aria-label="life cycle review, now in state approved"' in svg


def test_gates_timers_and_descriptions_are_labelled_and_escaped() -> None:
    svg = str(lifecycle_svg(STANDARD_LIKE))
    assert guard_label(STANDARD_LIKE.transition("validate")) == "2 checks · auto"
    assert guard_label(STANDARD_LIKE.transition("approve")) == "2× risk-manager"
    assert guard_label(STANDARD_LIKE.transition("recheck")) == "on metric.breached"
    assert "timer 90d" in svg
    assert "kept &lt;for&gt; the record" in svg and "<for>" not in svg
    assert "approval by 2 risk-manager, separation of duties" in svg


def test_a_transition_from_many_states_is_labelled_once() -> None:
    svg = str(lifecycle_svg(STANDARD_LIKE))
    retire_labels = re.findall(r'class="mlc-transition-label"[^>]*>retire<', svg)
    assert len(retire_labels) == 1
    assert svg.count('data-transition="retire"') == 2


def test_every_predefined_life_cycle_is_drawn_inside_its_canvas() -> None:
    from modelsteward.lifecycle.library import load_library

    for name, spec in load_library().items():
        svg = str(lifecycle_svg(spec, current=spec.initial))
        width, height = (
            float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()
        )
        for path in re.findall(r' d="([^"]+)"', svg):
            for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path):
                assert 0 <= float(x) <= width and 0 <= float(y) <= height, (name, path)
        for x, y in re.findall(r'<text x="([\d.]+)" y="([\d.]+)"', svg):
            assert 0 <= float(x) <= width and 0 < float(y) <= height, name
        assert svg.count('data-state="') == len(spec.states)
