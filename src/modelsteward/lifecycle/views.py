"""What the life cycle service returns and accepts: plain pydantic views for API and CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Outcome = Literal["applied", "waiting", "blocked"]


class DefinitionVersionView(BaseModel):
    version: int
    created_by: str
    created_at: datetime


class DefinitionSummary(BaseModel):
    """A named life cycle and its newest version, for listings."""

    name: str
    version: int
    description: str
    states: list[str]
    created_by: str
    created_at: datetime
    versions: int


class DefinitionView(BaseModel):
    """One version of a life cycle: the spec, the text it came from, and its siblings."""

    name: str
    version: int
    description: str
    spec: dict[str, Any]
    source: str
    format: str
    created_by: str
    created_at: datetime
    versions: list[DefinitionVersionView]


class SavedDefinition(BaseModel):
    """The answer to saving a definition: ``created`` is false when nothing changed."""

    created: bool
    definition: DefinitionView


class ValidationProblem(BaseModel):
    line: int | None
    path: str = ""
    message: str


class ValidationReport(BaseModel):
    valid: bool
    name: str | None = None
    errors: list[ValidationProblem] = []


class RuleSpec(BaseModel):
    """One assignment rule as written by a person: all given criteria must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: Annotated[int, Field(ge=0, le=1_000_000)]
    definition: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
    risk_tier: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    team: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    tag: Annotated[str, Field(min_length=3, max_length=321)] | None = None

    @field_validator("tag")
    @classmethod
    def _key_value(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key, sep, tag_value = value.partition("=")
        if not sep or not key or not tag_value or len(key) > 64:
            raise ValueError("write a tag criterion as key=value, e.g. domain=credit")
        return value

    @property
    def tag_pair(self) -> tuple[str, str] | None:
        if self.tag is None:
            return None
        key, _, value = self.tag.partition("=")
        return key, value


class RuleView(RuleSpec):
    created_by: str
    created_at: datetime


class GateResult(BaseModel):
    """One gate's verdict at one attempt: a check's result or an approval's progress."""

    index: int
    kind: Literal["check", "approval"]
    name: str
    passed: bool
    summary: str
    details: dict[str, Any] = {}


class HistoryEntry(BaseModel):
    id: int
    from_state: str | None
    to_state: str | None
    transition: str | None
    outcome: str
    actor: str
    at: datetime
    reason: str
    gates: list[dict[str, Any]]


class DecisionView(BaseModel):
    actor: str
    decision: str
    comment: str
    at: datetime


class TaskView(BaseModel):
    """An approval request as an approver sees it in the inbox."""

    id: int
    model: str
    version: int
    instance_id: int
    transition: str
    role: str
    deciding_role: str
    needed: int
    approvals: int
    separation_of_duties: bool
    status: str
    escalated_to: str | None
    escalate_at: datetime | None
    created_at: datetime
    decided_at: datetime | None
    decisions: list[DecisionView]


class AvailableTransition(BaseModel):
    """A transition that may leave the current state, and what stands in its way."""

    name: str
    to: str
    trigger: str
    gates: list[str]
    waiting: bool


class InstanceView(BaseModel):
    """Where a version stands in its life cycle, how it got there and what it waits for."""

    id: int
    model: str
    version: int
    definition: str
    definition_version: int
    state: str
    production: bool
    status: str
    revision: int
    started_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]
    available_transitions: list[AvailableTransition]
    open_tasks: list[TaskView]


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transition: Annotated[str, Field(min_length=1, max_length=64)]
    expected_revision: Annotated[int, Field(ge=0)]
    reason: Annotated[str, Field(max_length=2000)] = ""


class TransitionOutcome(BaseModel):
    """What a transition request did: applied, waiting for approvals, or blocked by a check."""

    outcome: Outcome
    transition: str
    gates: list[GateResult]
    instance: InstanceView


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Annotated[str, Field(max_length=4000)] = ""


class DecisionOutcome(BaseModel):
    """A recorded decision, the task after it, and the transition it completed, if any."""

    task: TaskView
    completed: TransitionOutcome | None = None
