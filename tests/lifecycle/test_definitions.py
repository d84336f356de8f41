"""Life cycle definitions: what a sound one reads as, and every way a bad one is refused.

Each refusal names the line of the problem, so the tests below check the line too.
"""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from modelsteward.errors import InvalidInput
from modelsteward.lifecycle.checks.registry import (
    Check,
    CheckContext,
    CheckResult,
    register_check,
    unregister_check,
)
from modelsteward.lifecycle.definitions import MAX_BYTES, parse_definition, validate_definition
from modelsteward.lifecycle.spec import (
    ApprovalGate,
    CheckGate,
    LifecycleSpec,
    StateSpec,
    TransitionSpec,
    format_duration,
    parse_duration,
)

SOUND = """\
name: demo
description: A small but complete life cycle.
initial: registered
states:
  - name: registered
  - name: approved
    on_enter:
      - action: emit_event
        params: {name: demo.approved}
  - name: production
    production: true
    timers:
      - {after: 90d, transition: revalidate}
  - name: retired
    terminal: true
transitions:
  - name: approve
    from: registered
    to: approved
    gates:
      - check: tests_pass
      - check: metric_threshold
        params: {metric: accuracy, min: 0.8}
      - approval: {role: risk-manager, count: 2, escalate_after: 3d, escalate_to: admin}
  - name: deploy
    from: approved
    to: production
    trigger: auto
  - name: revalidate
    from: production
    to: approved
    trigger: event:metric.breached
  - name: retire
    from: [registered, approved, production]
    to: retired
"""


def refusal(text: str, fmt: str = "yaml") -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_definition(textwrap.dedent(text), fmt=fmt)  # type: ignore[arg-type]
    return caught.value


def problems(text: str, fmt: str = "yaml") -> list[tuple[int | None, str]]:
    """(line, message) of every problem reported, in line order."""
    return [(e["line"], e["message"]) for e in refusal(text, fmt).details["errors"]]


def only_problem(text: str) -> tuple[int | None, str, str]:
    error = refusal(text)
    [found] = error.details["errors"]
    return found["line"], found["message"], error.message


def test_sound_definition_reads_into_a_frozen_spec() -> None:
    spec = parse_definition(SOUND)
    assert spec.initial == "registered"
    assert spec.state_names == ("registered", "approved", "production", "retired")
    assert spec.production_states == {"production"}
    assert spec.terminal_states == {"retired"}
    approve = spec.transition("approve")
    assert approve.from_ == ("registered",)
    assert approve.checks == (
        CheckGate(check="tests_pass"),
        CheckGate(check="metric_threshold", params={"metric": "accuracy", "min": 0.8}),
    )
    assert approve.approvals == (
        ApprovalGate(
            role="risk-manager",
            count=2,
            escalate_after=timedelta(days=3),
            escalate_to="admin",
        ),
    )
    assert spec.state("production").timers[0].after == timedelta(days=90)
    assert [t.name for t in spec.transitions_from("production")] == ["revalidate", "retire"]
    assert spec.transitions_on("metric.breached") == (spec.transition("revalidate"),)
    assert spec.transition("deploy").trigger == "auto"
    with pytest.raises(ValidationError, match="frozen"):
        spec.initial = "retired"


def test_definition_round_trips_through_json_with_yaml_key_names() -> None:
    spec = parse_definition(SOUND)
    document = spec.as_document()
    assert document["transitions"][0]["from"] == ["registered"]
    assert document["states"][2]["timers"][0]["after"] == "90d"
    assert document["transitions"][0]["gates"][2] == {
        "approval": {
            "role": "risk-manager",
            "count": 2,
            "separation_of_duties": True,
            "escalate_after": "3d",
            "escalate_to": "admin",
        }
    }
    assert parse_definition(json.dumps(document, indent=1), fmt="json") == spec


def test_durations_read_and_write_in_their_shortest_form() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("45s") == timedelta(seconds=45)
    assert format_duration(timedelta(days=3)) == "3d"
    assert format_duration(timedelta(minutes=90)) == "90m"
    assert format_duration(timedelta(seconds=61)) == "61s"
    for bad in ("0d", "3 days", "-1h", "1.5h", "", "d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_unknown_state_in_a_transition_names_its_line() -> None:
    line, message, text = only_problem(
        SOUND.replace("    to: approved\n    gates", "    to: aproved\n    gates")
    )
    assert (line, message) == (19, "unknown state 'aproved'")
    assert text.startswith("invalid life cycle definition: line 19: transitions[0].to: ")


def test_unknown_source_state_names_its_line() -> None:
    line, message, _ = only_problem(
        SOUND.replace(
            "from: [registered, approved, production]", "from: [registered, approve, production]"
        )
    )
    assert (line, message) == (34, "unknown state 'approve'")


def test_unknown_initial_state_names_its_line() -> None:
    assert only_problem(SOUND.replace("initial: registered", "initial: draft"))[:2] == (
        3,
        "initial state 'draft' is not defined",
    )


def test_unreachable_state_names_its_line() -> None:
    text = SOUND.replace(
        "  - name: retired\n", "  - name: orphan\n    terminal: true\n  - name: retired\n"
    )
    assert only_problem(text)[:2] == (14, "state 'orphan' cannot be reached from 'registered'")


def test_cycle_without_exit_names_its_states() -> None:
    text = SOUND.replace("    from: [registered, approved, production]", "    from: [registered]")
    assert problems(text) == [
        (6, "no path from 'approved' to a terminal state (a cycle without exit)"),
        (10, "no path from 'production' to a terminal state (a cycle without exit)"),
    ]


def test_definition_without_a_terminal_state_is_refused() -> None:
    line, message, _ = only_problem(SOUND.replace("    terminal: true\n", ""))
    assert line == 5 and "no state is terminal" in message


def test_transition_out_of_a_terminal_state_is_refused() -> None:
    text = SOUND + "  - name: revive\n    from: retired\n    to: registered\n"
    assert only_problem(text)[:2] == (37, "'retired' is terminal: nothing leaves it")


def test_production_state_cannot_be_terminal() -> None:
    text = SOUND.replace("    terminal: true\n", "    terminal: true\n    production: true\n")
    line, message, _ = only_problem(text)
    assert line == 15 and "'retired' is both production and terminal" in message


def test_gate_naming_an_unknown_check_names_its_line() -> None:
    line, message, _ = only_problem(SOUND.replace("check: tests_pass", "check: tests_passed"))
    assert line == 21
    assert message.startswith("unknown check 'tests_passed'; known checks: ")
    assert "metric_threshold" in message


def test_gate_with_bad_check_params_names_its_line() -> None:
    line, message, _ = only_problem(
        SOUND.replace("{metric: accuracy, min: 0.8}", "{metric: accuracy}")
    )
    assert line == 23
    assert "give 'min', 'max' or both" in message


def test_approval_by_an_unknown_role_names_its_line() -> None:
    line, message, _ = only_problem(SOUND.replace("role: risk-manager", "role: risk-officer"))
    assert line == 24
    assert message.startswith("unknown role 'risk-officer'; roles that approve: ")


def test_consuming_applications_and_viewers_cannot_approve() -> None:
    for role in ("application", "viewer"):
        line, message, _ = only_problem(SOUND.replace("role: risk-manager", f"role: {role}"))
        assert line == 24
        assert message.startswith(f"role '{role}' cannot approve; use one of ")


def test_escalation_to_an_unknown_role_is_refused() -> None:
    line, message, _ = only_problem(SOUND.replace("escalate_to: admin", "escalate_to: boss"))
    assert line == 24 and "unknown role 'boss'" in message


def test_escalation_needs_both_a_delay_and_a_role() -> None:
    line, message, _ = only_problem(SOUND.replace(", escalate_to: admin", ""))
    assert line == 24
    assert "escalate_after and escalate_to go together" in message


def test_approval_count_is_bounded() -> None:
    error = refusal(SOUND.replace("count: 2", "count: 0"))
    assert error.details["errors"][0]["path"] == "transitions[0].gates[2].approval.count"
    line, message, _ = only_problem(SOUND.replace("count: 2", "count: 0"))
    assert line == 24 and "greater than or equal to 1" in message


def test_gate_that_is_neither_check_nor_approval_is_refused() -> None:
    line, message, _ = only_problem(SOUND.replace("- check: tests_pass", "- review: tests_pass"))
    assert line == 21 and "a gate is either 'check: <name>' or 'approval:" in message


def test_unknown_action_and_bad_action_params_name_their_lines() -> None:
    text = SOUND.replace("action: emit_event", "action: email").replace(
        "  - name: retired\n    terminal: true\n",
        "  - name: retired\n    terminal: true\n    on_enter:\n      - action: move_alias\n",
    )
    found = problems(text)
    assert found[0][0] == 8 and found[0][1].startswith("unknown action 'email'")
    assert found[1][0] == 17 and "alias: Field required" in found[1][1]


def test_actions_cannot_forge_service_events() -> None:
    line, message, _ = only_problem(
        SOUND.replace("name: demo.approved", "name: version.registered")
    )
    assert line == 9 and "belongs to a service" in message


def test_timer_naming_an_unknown_transition_is_refused() -> None:
    text = SOUND.replace("transition: revalidate}", "transition: recheck}")
    assert only_problem(text)[:2] == (13, "unknown transition 'recheck'")


def test_timer_must_fire_a_transition_that_leaves_its_state() -> None:
    text = SOUND.replace("transition: revalidate}", "transition: approve}")
    assert only_problem(text)[:2] == (13, "transition 'approve' does not leave 'production'")


def test_bad_duration_names_its_line() -> None:
    line, message, _ = only_problem(SOUND.replace("after: 90d", "after: 3 months"))
    assert line == 13 and "invalid duration '3 months'" in message


def test_duplicate_state_and_transition_names_are_refused() -> None:
    text = SOUND.replace("  - name: approved\n", "  - name: registered\n  - name: approved\n", 1)
    text += "  - name: deploy\n    from: registered\n    to: retired\n"
    assert problems(text) == [
        (6, "state 'registered' is defined twice"),
        (37, "transition 'deploy' is defined twice"),
    ]


def test_misspelt_key_names_its_line() -> None:
    line, message, _ = only_problem(SOUND.replace("    production: true", "    prodution: true"))
    assert (line, message) == (11, "Extra inputs are not permitted")


def test_every_problem_is_listed_not_only_the_first() -> None:
    text = (
        SOUND.replace("check: tests_pass", "check: nope")
        .replace("role: risk-manager", "role: nobody")
        .replace("transition: revalidate}", "transition: recheck}")
    )
    error = refusal(text)
    assert [e["line"] for e in error.details["errors"]] == [13, 21, 24]
    assert error.message.endswith("(and 2 more problem(s))")
    paths = [e["path"] for e in error.details["errors"]]
    assert paths == [
        "states[2].timers[0].transition",
        "transitions[0].gates[0].check",
        "transitions[0].gates[2].approval.role",
    ]


def test_auto_transitions_that_loop_are_refused() -> None:
    text = SOUND.replace(
        "    to: approved\n    trigger: event:metric.breached",
        "    to: approved\n    trigger: auto",
    )
    found = problems(text)
    assert [line for line, _ in found] == [28, 32]
    assert all("the engine would loop" in message for _, message in found)


def test_malformed_yaml_names_its_line() -> None:
    text = SOUND.replace("    to: approved\n    gates:", "    to: [approved\n    gates:")
    line, message, _ = only_problem(text)
    assert line == 20 and message.startswith("malformed YAML: ")


def test_tab_indentation_names_its_line() -> None:
    line, message, _ = only_problem("name: x\ninitial: a\nstates:\n\t- name: a\n")
    assert line == 4 and message.startswith("malformed YAML")


def test_document_that_is_not_a_mapping_is_refused() -> None:
    assert only_problem("- name: demo\n- initial: a\n")[:2] == (
        1,
        "the definition must be a mapping with name, initial, states and transitions",
    )
    assert only_problem("just words")[1].startswith("the definition must be a mapping")
    assert only_problem("")[1] == "the definition is empty"


def test_several_documents_in_one_file_are_refused() -> None:
    line, message, _ = only_problem(SOUND + "---\nname: other\n")
    assert line == 36 and "single document" in message


def test_duplicate_keys_are_refused_not_silently_overwritten() -> None:
    line, message, _ = only_problem(
        SOUND.replace("initial: registered", "initial: registered\nname: other")
    )
    assert (line, message) == (4, "key 'name' appears twice in one mapping")


def test_python_tags_are_refused() -> None:
    line, message, _ = only_problem("name: !!python/object/apply:os.system ['true']\n")
    assert line == 1 and "could not determine a constructor" in message


def test_input_over_256_kib_is_refused_before_parsing() -> None:
    text = SOUND + "# " + "x" * MAX_BYTES + "\n"
    line, message, _ = only_problem(text)
    assert line is None and message == "the definition is larger than 256 KiB"


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [{', '.join(['*' + previous] * 9)}]")
    line, message, _ = only_problem("\n".join(lines) + "\n")
    assert message == "the document has more than 50000 nodes once its aliases are expanded"


def test_self_referencing_alias_is_refused() -> None:
    assert only_problem("name: &a [*a]\n")[1] == "the document refers to itself through an alias"


def test_deep_nesting_is_refused() -> None:
    assert only_problem("name: " + "[" * 20_000 + "\n")[1] == "the document is nested too deeply"


def test_bad_names_and_triggers_say_what_is_allowed() -> None:
    line, message, _ = only_problem(SOUND.replace("  - name: retired", "  - name: Retired"))
    assert line == 14
    assert (
        message
        == "'Retired': use 1-64 lower-case letters, digits, '_' or '-', starting with a letter"
    )
    line, message, _ = only_problem(SOUND.replace("trigger: auto", "trigger: nightly"))
    assert line == 28
    assert (
        message
        == "'nightly': a trigger is 'manual', 'auto' or 'event:<name>', e.g. event:metric.breached"
    )


def test_names_with_a_trailing_newline_are_refused() -> None:
    with pytest.raises(ValidationError, match="lower-case letters"):
        StateSpec(name="retired\n")


def test_harmless_anchors_may_share_gates() -> None:
    text = SOUND.replace(
        "      - check: tests_pass\n", "      - &tests\n        check: tests_pass\n"
    ).replace(
        "    to: production\n    trigger: auto\n", "    to: production\n    gates: [*tests]\n"
    )
    assert parse_definition(text).transition("deploy").checks == (CheckGate(check="tests_pass"),)


def test_json_definitions_name_lines_too() -> None:
    document = parse_definition(SOUND).as_document()
    document["transitions"][1]["to"] = "prod"
    text = json.dumps(document, indent=1)
    [(line, message)] = problems(text, fmt="json")
    assert message == "unknown state 'prod'" and line is not None
    assert text.splitlines()[line - 1].strip() == '"to": "prod",'


def test_malformed_json_names_its_line() -> None:
    line, message, _ = only_problem_json('{"name": "x",\n "initial": }')
    assert line == 2 and message.startswith("malformed JSON")


def only_problem_json(text: str) -> tuple[int | None, str, str]:
    error = refusal(text, fmt="json")
    [found] = error.details["errors"]
    return found["line"], found["message"], error.message


class _Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: float = 0.2


def test_checks_registered_later_can_be_named_in_definitions() -> None:
    text = SOUND.replace("check: tests_pass", "check: features_fresh")
    with pytest.raises(InvalidInput, match="unknown check 'features_fresh'"):
        parse_definition(text)
    register_check(
        Check(
            name="features_fresh",
            description="The feature store's tables were refreshed today.",
            params_model=_Threshold,
            run=lambda context, params: CheckResult(True, "no drift"),
        )
    )
    try:
        spec = parse_definition(text)
        assert spec.transition("approve").checks[0].check == "features_fresh"
    finally:
        unregister_check("features_fresh")


def test_validate_definition_checks_specs_built_in_code() -> None:
    spec = LifecycleSpec(
        name="coded",
        initial="a",
        states=(StateSpec(name="a"), StateSpec(name="b", terminal=True), StateSpec(name="c")),
        transitions=(TransitionSpec.model_validate({"name": "go", "from": "a", "to": "b"}),),
    )
    with pytest.raises(InvalidInput) as caught:
        validate_definition(spec)
    assert caught.value.details["errors"] == [
        {"line": None, "path": "states[2].name", "message": "state 'c' cannot be reached from 'a'"}
    ]
    validate_definition(parse_definition(SOUND))


def test_context_type_is_exported_for_check_authors() -> None:
    assert CheckContext.__dataclass_fields__.keys() >= {"steward", "model", "version", "params"}
