"""What a life cycle definition is: states, transitions, gates, timers and actions.

Frozen pydantic models, the stored and exchanged shape of a definition. They check
the shape of each piece; ``lifecycle.definitions`` checks the whole (reachability,
known checks, roles and actions) and maps problems to YAML lines.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

MAX_STATES = 100
MAX_TRANSITIONS = 400
MAX_DURATION = timedelta(days=3650)
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([wdhms])\s*$")
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
# Tags of the gate union; error locations carry them, ``definitions`` strips them.
CHECK_GATE_TAG = "check_gate"
APPROVAL_GATE_TAG = "approval_gate"


def parse_duration(value: Any) -> timedelta:
    """``"90d"``, ``"3d"``, ``"12h"``, ``"30m"``, ``"45s"`` or ``"2w"`` as a positive timedelta."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        duration = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    else:
        raise ValueError(
            f"invalid duration {str(value)[:40]!r}: write a whole number and a unit, "
            "e.g. 90d, 12h, 30m or 45s"
        )
    if duration <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    if duration > MAX_DURATION:
        raise ValueError("a duration must be at most 3650d")
    return duration


def format_duration(value: timedelta) -> str:
    """The shortest exact form of a duration: ``timedelta(days=90)`` -> ``"90d"``."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _DURATION.pattern}),
]
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_REGISTRY_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,127}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TRIGGER = re.compile(r"^(manual|auto|event:[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+)$")


def _matching(pattern: re.Pattern[str], rule: str) -> Any:
    """A validator that refuses a string not matching ``pattern`` with ``rule`` as the reason."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value[:64]!r}: {rule}")
        return value

    return AfterValidator(check)


Identifier = Annotated[
    str,
    Field(max_length=64),
    _matching(
        _IDENTIFIER, "use 1-64 lower-case letters, digits, '_' or '-', starting with a letter"
    ),
]
RegistryName = Annotated[
    str,
    Field(max_length=128),
    _matching(_REGISTRY_NAME, "a registered name is lower-case letters, digits, '_', '.' or '-'"),
]
Params = Annotated[dict[str, Any], Field(max_length=64)]
Trigger = Annotated[
    str,
    Field(max_length=128),
    _matching(
        _TRIGGER, "a trigger is 'manual', 'auto' or 'event:<name>', e.g. event:metric.breached"
    ),
]
Description = Annotated[str, Field(max_length=4096)]
EnvironmentName = Annotated[
    str,
    Field(max_length=128),
    _matching(_ENVIRONMENT, "an environment name is letters, digits, '_', '.' or '-'"),
]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CheckGate(Frozen):
    """An automated check, by its name in the check registry, with its parameters."""

    check: RegistryName
    params: Params = {}


class ApprovalGate(Frozen):
    """Human approval: ``count`` distinct people holding ``role`` approve.

    With ``separation_of_duties`` neither the submitter nor the model's owner may
    approve. ``distinct_from`` names transitions (tasks are named by their transition)
    or states (every transition into them) whose approvers may not approve this gate:
    ``distinct_from: [validate]`` keeps the validator from giving a final approval.
    When nobody decides within ``escalate_after``, the task also goes to
    ``escalate_to``. Written in YAML as ``approval: {role: ..., count: ...}``.
    """

    role: Annotated[str, Field(min_length=1, max_length=64)]
    count: Annotated[int, Field(ge=1, le=10)] = 1
    separation_of_duties: bool = True
    distinct_from: Annotated[
        tuple[Identifier, ...], BeforeValidator(_as_list), Field(max_length=32)
    ] = ()
    escalate_after: Duration | None = None
    escalate_to: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"approval"}:
            return data["approval"]
        return data

    @model_validator(mode="after")
    def _escalation(self) -> ApprovalGate:
        if (self.escalate_after is None) != (self.escalate_to is None):
            raise ValueError("escalate_after and escalate_to go together: give both or neither")
        return self

    @model_serializer(mode="wrap")
    def _wrap(self, handler: Any) -> dict[str, Any]:
        fields = handler(self)
        if not self.distinct_from:  # documents written before distinct_from stay the same
            fields.pop("distinct_from", None)
        return {"approval": fields}


def _gate_kind(value: Any) -> str | None:
    if isinstance(value, CheckGate) or (isinstance(value, dict) and "check" in value):
        return CHECK_GATE_TAG
    if isinstance(value, ApprovalGate) or (isinstance(value, dict) and "approval" in value):
        return APPROVAL_GATE_TAG
    return None


Gate = Annotated[
    Annotated[CheckGate, Tag(CHECK_GATE_TAG)] | Annotated[ApprovalGate, Tag(APPROVAL_GATE_TAG)],
    Discriminator(
        _gate_kind,
        custom_error_type="invalid_gate",
        custom_error_message="a gate is either 'check: <name>' or 'approval: {role: ...}'",
    ),
]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ActionSpec(Frozen):
    """An action from the action registry, run when an instance enters the state."""

    action: RegistryName
    params: Params = {}


class TimerSpec(Frozen):
    """Fire ``transition`` once the instance has been in the state for ``after``."""

    after: Duration
    transition: Identifier


class StateSpec(Frozen):
    """A state; ``production`` marks where a version serves, ``terminal`` where it ends.

    ``admits`` lists the environments a version in this state may be deployed to; see
    ``lifecycle.admission`` for the states that admit an environment without saying so.
    """

    name: Identifier
    description: Description = ""
    production: bool = False
    terminal: bool = False
    admits: Annotated[
        tuple[EnvironmentName, ...], BeforeValidator(_as_list), Field(max_length=32)
    ] = ()
    supersedes: Identifier | None = Field(
        default=None,
        description="On a production state: the transition the version holding production "
        "takes when this one enters (e.g. retire), instead of a 409",
    )
    on_enter: Annotated[tuple[ActionSpec, ...], Field(max_length=32)] = ()
    timers: Annotated[tuple[TimerSpec, ...], Field(max_length=16)] = ()


class TransitionSpec(Frozen):
    """A move from any of ``from_`` (YAML key ``from``) to ``to``, taken when the gates pass.

    ``trigger`` says who asks: ``manual`` (a person, through the API), ``auto`` (the
    engine, as soon as the gates pass) or ``event:<name>`` (that domain event).
    """

    name: Identifier
    from_: Annotated[
        tuple[Identifier, ...],
        BeforeValidator(_as_list),
        Field(alias="from", min_length=1, max_length=MAX_STATES),
    ]
    to: Identifier
    description: Description = ""
    trigger: Trigger = "manual"
    gates: Annotated[tuple[Gate, ...], Field(max_length=32)] = ()

    @property
    def event(self) -> str | None:
        """The domain event that fires this transition, if its trigger is an event."""
        return self.trigger.removeprefix("event:") if self.trigger.startswith("event:") else None

    @property
    def checks(self) -> tuple[CheckGate, ...]:
        return tuple(g for g in self.gates if isinstance(g, CheckGate))

    @property
    def approvals(self) -> tuple[ApprovalGate, ...]:
        return tuple(g for g in self.gates if isinstance(g, ApprovalGate))


class LifecycleSpec(Frozen):
    """A whole life cycle; ``lifecycle.definitions.validate_definition`` checks it as a graph."""

    name: Identifier
    description: Description = ""
    initial: Identifier
    states: Annotated[tuple[StateSpec, ...], Field(min_length=1, max_length=MAX_STATES)]
    transitions: Annotated[tuple[TransitionSpec, ...], Field(max_length=MAX_TRANSITIONS)] = ()

    def state(self, name: str) -> StateSpec:
        """The state called ``name``; ``KeyError`` when there is none."""
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(name)

    def transition(self, name: str) -> TransitionSpec:
        """The transition called ``name``; ``KeyError`` when there is none."""
        for transition in self.transitions:
            if transition.name == name:
                return transition
        raise KeyError(name)

    def transitions_from(self, state: str) -> tuple[TransitionSpec, ...]:
        """Transitions that may leave ``state``, in the order they are written."""
        return tuple(t for t in self.transitions if state in t.from_)

    def deciding_transitions(self, names: tuple[str, ...]) -> frozenset[str]:
        """The transitions ``distinct_from`` names: those called so, and those into a
        state called so."""
        return frozenset(t.name for t in self.transitions if t.name in names or t.to in names)

    def transitions_on(self, event: str) -> tuple[TransitionSpec, ...]:
        """Transitions triggered by the domain event ``event``."""
        return tuple(t for t in self.transitions if t.event == event)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def production_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.production)

    @property
    def terminal_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.terminal)

    def as_document(self) -> dict[str, Any]:
        """The definition as plain JSON-ready data, with the YAML key names (``from``)."""
        return self.model_dump(mode="json", by_alias=True)
