"""The registry of actions a life cycle runs when an instance enters a state.

Actions are found by stable name. Built-ins ship through the
``modelsteward.lifecycle_actions`` entry point group, the same door as third-party
packages; code in the process (notifications, retraining) adds its own with
``register_action``. Each action says when it runs: ``in_transaction`` actions get
the engine's ``Change`` and commit (or roll back) with the transition;
``after_commit`` actions call services that open their own transaction, once the
transition is on record, and must tolerate being run again after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from modelsteward.context import Change, Steward
from modelsteward.identity.users import Principal
from modelsteward.plugins import NamedRegistry, validate_params

ENTRY_POINT_GROUP = "modelsteward.lifecycle_actions"
Runs = Literal["in_transaction", "after_commit"]


class NoParams(BaseModel):
    """For actions that take no parameters: any given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ActionContext:
    """What an action acts on; ``change`` is set for ``in_transaction`` actions only."""

    steward: Steward
    actor: Principal
    model: str
    version: int
    instance_id: int | str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    change: Change | None = None


@dataclass(frozen=True)
class ActionResult:
    """What an action did, in one line for the instance's history."""

    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A named action, its parameter model, when it runs and the function that runs it."""

    name: str
    description: str
    params_model: type[BaseModel]
    runs: Runs
    run: Callable[[ActionContext, Any], ActionResult]

    def parse_params(self, params: Mapping[str, Any]) -> BaseModel:
        """Validate an ``on_enter`` entry's ``params``; ``InvalidInput`` lists what is wrong."""
        return validate_params(self.params_model, params, f"action {self.name!r}")

    def execute(self, context: ActionContext) -> ActionResult:
        """Validate ``context.params`` and run the action where its ``runs`` says."""
        if self.runs == "in_transaction" and context.change is None:
            raise ValueError(f"action {self.name!r} runs in the engine's transaction; pass change")
        return self.run(context, self.parse_params(context.params))


REGISTRY: NamedRegistry[Action] = NamedRegistry(ENTRY_POINT_GROUP, "action", Action)


def register_action(action: Action, *, replace: bool = False) -> Action:
    """Add an action in this process; a name already taken needs ``replace=True``."""
    return REGISTRY.register(action, replace=replace)


def unregister_action(name: str) -> None:
    """Remove an action added with ``register_action`` (entry point actions stay)."""
    REGISTRY.unregister(name)


def available_actions() -> dict[str, Action]:
    return REGISTRY.available()


def action_names() -> list[str]:
    return REGISTRY.names()


def get_action(name: str) -> Action:
    return REGISTRY.get(name)
