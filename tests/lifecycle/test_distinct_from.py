"""``distinct_from``: an approval gate that those who approved earlier steps may not decide.

In ``regulated`` the risk manager who did the independent validation once gave one of
the two final approvals too, so two people sufficed where three were promised.
"""

from __future__ import annotations

import pytest
from tests.helpers import recorded
from tests.lifecycle.workbench import DOCUMENTED, engine, person, register, status

from modelsteward.context import Steward
from modelsteward.errors import Forbidden, InvalidInput
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.definitions import parse_definition
from modelsteward.lifecycle.reading import get_task
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import RuleSpec, TaskView

TWO_STEPS = """
name: two-steps
initial: new
states:
  - name: new
  - name: reviewed
  - name: approved
  - name: gone
    terminal: true
transitions:
  - name: review
    from: new
    to: reviewed
    gates:
      - approval: {role: risk-manager}
  - name: approve
    from: reviewed
    to: approved
    gates:
      - approval: {role: risk-manager, count: 2, distinct_from: [DISTINCT]}
  - name: retire
    from: [new, reviewed, approved]
    to: gone
"""


def final_task(steward: Steward) -> TaskView:
    """credit v1 on ``regulated``, validated by rita: its open two-approval task."""
    engine(steward)
    put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition="regulated")])
    facts = {"description": "credit risk", "use_case": "loan decisions", "risk_tier": "high"}
    version = register(steward, "credit", model_facts=facts, **DOCUMENTED)
    for name in ("submit", "validate"):
        current = status(steward, "credit", version)
        transition(steward, current.id, name, SYSTEM, current.revision)
    [validation] = status(steward, "credit", version).open_tasks
    assert decide(steward, validation.id, person(steward, "risk-manager", "rita"), "approve")
    current = status(steward, "credit", version)
    assert current.state == "validated"
    transition(steward, current.id, "approve", SYSTEM, current.revision)
    [task] = status(steward, "credit", version).open_tasks
    assert (task.transition, task.needed) == ("approve", 2)
    return task


def test_the_validator_may_not_give_a_final_approval_in_regulated(any_steward: Steward) -> None:
    task = final_task(any_steward)
    rita = person(any_steward, "risk-manager", "rita")
    with pytest.raises(Forbidden) as refused:
        decide(any_steward, task.id, rita, "approve")
    assert refused.value.message.startswith("separation of duties: rita approved validate (task ")
    assert "may not also approve approve" in refused.value.message
    assert "distinct_from: validate" in refused.value.message
    assert get_task(any_steward, task.id).decisions == []
    raj = person(any_steward, "risk-manager", "raj")
    decide(any_steward, task.id, raj, "approve")
    with pytest.raises(Forbidden, match="rita approved validate"):
        decide(any_steward, task.id, rita, "approve")  # not as the second approver either
    assert get_task(any_steward, task.id).status == "open"


def test_three_distinct_people_take_regulated_to_approved(any_steward: Steward) -> None:
    task = final_task(any_steward)
    decide(any_steward, task.id, person(any_steward, "risk-manager", "raj"), "approve")
    done = decide(any_steward, task.id, person(any_steward, "risk-manager", "rosa"), "approve")
    assert done.task.status == "approved"
    assert done.completed is not None and done.completed.instance.state == "approved"
    deciders = {e.actor for e in recorded(any_steward, "task.voted", "task.approved")}
    assert deciders == {"rita", "raj", "rosa"}


def test_a_state_name_means_the_approvers_of_the_transitions_into_it(steward: Steward) -> None:
    spec = parse_definition(TWO_STEPS.replace("DISTINCT", "reviewed"))
    assert spec.deciding_transitions(("reviewed",)) == {"review"}
    [gate] = spec.transition("approve").approvals
    assert gate.distinct_from == ("reviewed",)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("revew", "distinct_from names 'revew', which is no transition or state; transitions "),
        ("approve", "'approve' is this gate's own transition: one vote each applies"),
        ("retire", "nobody approves 'retire': no approval gate decides it"),
        ("new", "nobody approves 'new': no approval gate decides it"),
    ],
)
def test_distinct_from_naming_nothing_that_is_approved_is_refused_at_load(
    name: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_definition(TWO_STEPS.replace("DISTINCT", name))
    [problem] = refused.value.details["errors"]
    assert problem["message"].startswith(message)
    assert problem["line"] == 20 and problem["path"].endswith("distinct_from[0]")
