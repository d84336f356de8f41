"""Events the life cycle engine records (see docs/events.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modelsteward.events.catalogue import EventType, Payload


class Defined(Payload):
    name: str
    version: int
    spec_hash: str | None = None
    library: bool | None = None


class RulesSet(Payload):
    rules: list[dict[str, Any]]


class Started(Payload):
    model: str
    version: int
    instance: int
    to: str
    production: bool


class Transitioned(Payload):
    model: str
    version: int
    instance: int
    from_state: str = Field(alias="from")
    to: str
    transition: str
    production: bool
    superseded_by: int | None = None


class NotTaken(Payload):
    state: str
    transition: str
    reason: str
    gates: list[dict[str, Any]]


class ActionsRan(Payload):
    state: str
    results: list[Any]


class Failed(Payload):
    transition: str
    reason: str


class TaskOpened(Payload):
    model: str
    version: int
    transition: str
    role: str
    needed: int


class TaskDecided(Payload):
    decision: str
    comment: str
    transition: str
    status: str


class TaskVoted(Payload):
    """One approval on a task that needs more: who voted, and how many of how many."""

    decision: str
    comment: str
    transition: str
    status: str
    voter: str
    votes: int
    needed: int


class TaskEscalated(Payload):
    role: str
    model: str
    version: int


EVENTS = [
    EventType(
        "lifecycle.defined",
        "A life cycle definition was stored as a new version.",
        "lifecycle_definition",
        Defined,
    ),
    EventType(
        "lifecycle.rules_set",
        "The rules that pick each model's life cycle were replaced.",
        "lifecycle_rules",
        RulesSet,
    ),
    EventType(
        "lifecycle.started",
        "A model version's life cycle instance started in its initial state.",
        "lifecycle",
        Started,
    ),
    EventType(
        "lifecycle.transitioned",
        "A version moved from one life cycle state to another.",
        "lifecycle",
        Transitioned,
    ),
    EventType(
        "lifecycle.blocked", "A transition was refused: a gate failed.", "lifecycle", NotTaken
    ),
    EventType(
        "lifecycle.waiting",
        "A transition waits for approvals or a pending gate.",
        "lifecycle",
        NotTaken,
    ),
    EventType(
        "lifecycle.actions_ran",
        "The actions of a state that was entered ran (deploy, move alias...).",
        "lifecycle",
        ActionsRan,
    ),
    EventType(
        "lifecycle.failed",
        "An engine-driven transition could not be taken (e.g. production is taken).",
        "lifecycle",
        Failed,
    ),
    EventType("task.opened", "An approval task was opened for a transition.", "task", TaskOpened),
    EventType(
        "task.voted",
        "One approval was given on a task that needs more; the task stays open.",
        "task",
        TaskVoted,
    ),
    EventType(
        "task.approved",
        "A task got its last required approval and is decided (approved).",
        "task",
        TaskDecided,
    ),
    EventType(
        "task.rejected",
        "A task was rejected; its transition will not be taken.",
        "task",
        TaskDecided,
    ),
    EventType("task.commented", "Someone commented on a task.", "task", TaskDecided),
    EventType(
        "task.escalated",
        "An undecided task was escalated to another role by its timer.",
        "task",
        TaskEscalated,
    ),
]
