"""The predefined life cycles shipped with modelsteward, and their documentation."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from modelsteward.errors import NotFound
from modelsteward.lifecycle.actions import registry as actions
from modelsteward.lifecycle.checks import registry as checks
from modelsteward.lifecycle.definitions import parse_definition
from modelsteward.lifecycle.library import LIBRARY, library_text, load_library
from modelsteward.lifecycle.spec import ApprovalGate, LifecycleSpec

DOCS = Path(__file__).parents[2] / "docs" / "lifecycles.md"


def path_of(spec: LifecycleSpec, *transitions: str) -> list[str]:
    """The states visited from ``initial`` by taking ``transitions`` in turn."""
    state, visited = spec.initial, [spec.initial]
    for name in transitions:
        transition = spec.transition(name)
        assert state in transition.from_, f"{name} does not leave {state}"
        state = transition.to
        visited.append(state)
    return visited


def gate_checks(spec: LifecycleSpec, transition: str) -> list[str]:
    return [g.check for g in spec.transition(transition).checks]


def test_library_holds_the_four_predefined_life_cycles() -> None:
    library = load_library()
    assert sorted(library) == sorted(LIBRARY)
    for name, spec in library.items():
        assert spec.name == name
        assert spec.description
        assert all(state.description for state in spec.states)
        assert parse_definition(library_text(name)) == spec


def test_standard_goes_from_registration_to_retirement() -> None:
    spec = load_library()["standard"]
    assert path_of(spec, "validate", "approve", "deploy", "monitor", "retire") == [
        "registered",
        "validated",
        "approved",
        "deployed",
        "monitored",
        "retired",
    ]
    assert spec.production_states == {"deployed", "monitored"}
    assert spec.terminal_states == {"retired"}
    assert gate_checks(spec, "validate") == ["tests_pass", "metadata_present"]
    assert spec.transition("approve").approvals == (ApprovalGate(role="risk-manager"),)
    assert [a.action for a in spec.state("deployed").on_enter] == ["deploy", "move_alias"]
    assert [a.action for a in spec.state("retired").on_enter] == ["archive_version"]


def test_regulated_validates_independently_and_needs_two_approvals() -> None:
    spec = load_library()["regulated"]
    assert path_of(spec, "submit", "validate", "approve", "deploy") == [
        "registered",
        "in_validation",
        "validated",
        "approved",
        "production",
    ]
    assert gate_checks(spec, "submit") == ["documentation_complete", "tests_pass"]
    [validation] = spec.transition("validate").approvals
    assert validation.role == "risk-manager" and validation.separation_of_duties
    assert "fairness_bounds" in gate_checks(spec, "validate")
    [approval] = spec.transition("approve").approvals
    assert (approval.role, approval.count, approval.separation_of_duties) == (
        "risk-manager",
        2,
        True,
    )
    assert approval.distinct_from == ("validate",)  # the validator is not one of the two
    every_approval = [a for t in spec.transitions for a in t.approvals]
    assert every_approval and all(
        (a.escalate_after, a.escalate_to) == (timedelta(days=3), "admin") for a in every_approval
    )


def test_regulated_production_is_revalidated_every_90_days_and_on_breach() -> None:
    spec = load_library()["regulated"]
    production = spec.state("production")
    assert production.production
    [timer] = production.timers
    assert (timer.after, timer.transition) == (timedelta(days=90), "revalidate")
    assert spec.transition("revalidate").to == "revalidation"
    assert spec.transitions_on("metric.breached") == (spec.transition("breach"),)
    assert spec.state("revalidation").production
    assert spec.transition("revalidated").to == "production"
    assert "fairness_bounds" in gate_checks(spec, "revalidated")


def test_champion_challenger_evaluates_shadows_ab_tests_then_promotes_or_discards() -> None:
    spec = load_library()["champion-challenger"]
    assert path_of(spec, "evaluate", "shadow", "start_ab", "promote") == [
        "candidate",
        "evaluated",
        "shadow",
        "ab_test",
        "promoted",
    ]
    assert spec.transition("evaluate").trigger == "auto"
    assert set(spec.transition("discard").from_) == {"candidate", "evaluated", "shadow", "ab_test"}
    assert spec.production_states == {"promoted"}
    strategies = {
        state: [a.params["strategy"] for a in spec.state(state).on_enter if a.action == "deploy"]
        for state in ("shadow", "ab_test", "promoted")
    }
    assert strategies == {"shadow": ["shadow"], "ab_test": ["ab"], "promoted": ["direct"]}
    assert [a.action for a in spec.state("discarded").on_enter] == ["drain", "archive_version"]


def test_retirement_notifies_drains_and_archives_keeping_records() -> None:
    spec = load_library()["retirement"]
    assert path_of(spec, "drain", "archive") == ["announced", "draining", "archived"]
    [notice] = spec.state("announced").on_enter
    assert (notice.action, notice.params) == ("emit_event", {"name": "retirement.announced"})
    assert spec.state("announced").timers[0].after == timedelta(days=30)
    assert [a.action for a in spec.state("draining").on_enter] == ["drain"]
    assert "archive_version" in [a.action for a in spec.state("archived").on_enter]
    assert spec.terminal_states == {"archived"}
    assert not spec.production_states


def test_unknown_library_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="no predefined life cycle 'strict'"):
        library_text("strict")


def test_docs_describe_every_library_life_cycle_check_and_action() -> None:
    text = DOCS.read_text()
    shipped = [
        ep.name
        for group in (checks.ENTRY_POINT_GROUP, actions.ENTRY_POINT_GROUP)
        for ep in entry_points(group=group)
    ]
    assert len(shipped) >= 10
    for name in (*LIBRARY, *shipped):
        assert f"`{name}`" in text, f"docs/lifecycles.md does not mention {name}"
    for key in ("initial", "production", "terminal", "on_enter", "timers", "trigger", "gates"):
        assert f"`{key}`" in text
