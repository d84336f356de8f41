"""The life cycle's deployment policy: which states each environment admits."""

from __future__ import annotations

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.lifecycle.admission import admitting, next_transition
from modelsteward.lifecycle.definitions import parse_definition
from modelsteward.lifecycle.library import load_library

STAGED = """
name: staged
initial: draft
states:
  - name: draft
  - name: reviewed
    admits: staging
  - name: live
    production: true
    admits: [staging]
  - name: gone
    terminal: true
transitions:
  - {name: review, from: draft, to: reviewed}
  - {name: release, from: reviewed, to: live}
  - {name: retire, from: [draft, reviewed, live], to: gone}
"""


@pytest.mark.parametrize(
    ("name", "states"),
    [
        ("standard", {"approved", "deployed", "monitored"}),
        ("regulated", {"approved", "production", "revalidation"}),
        ("champion-challenger", {"shadow", "ab_test", "promoted"}),
        ("retirement", set()),
    ],
)
def test_the_library_admits_production_only_from_approved_or_later(
    name: str, states: set[str]
) -> None:
    assert admitting(load_library()[name], "production") == states


def test_environments_no_state_names_are_not_gated() -> None:
    assert admitting(load_library()["standard"], "staging") is None


def test_declared_and_implied_admissions() -> None:
    spec = parse_definition(STAGED)
    assert admitting(spec, "staging") == {"reviewed", "live"}
    assert admitting(spec, "production") == {"live"}  # production: true admits it
    assert admitting(spec, "dev") is None


def test_a_states_own_deploy_action_admits_its_environment() -> None:
    spec = load_library()["champion-challenger"]
    assert spec.state("shadow").admits == ("production",)
    stripped = STAGED.replace(
        "  - name: draft\n",
        "  - name: draft\n    on_enter:\n      - action: deploy\n"
        "        params: {environment: canary-lab}\n",
    )
    assert admitting(parse_definition(stripped), "canary-lab") == {"draft"}


def test_the_next_transition_is_the_first_step_of_a_shortest_path() -> None:
    standard = load_library()["standard"]
    admitted = admitting(standard, "production")
    assert admitted is not None
    step = next_transition(standard, "registered", admitted)
    assert step is not None and step.name == "validate"
    after = next_transition(standard, "validated", admitted)
    assert after is not None and after.name == "approve"
    assert next_transition(standard, "retired", admitted) is None


def test_an_admitted_environment_must_be_a_plain_name() -> None:
    with pytest.raises(InvalidInput, match="environment name"):
        parse_definition(STAGED.replace("admits: staging", "admits: '../prod'"))
