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

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from modelsteward.context import Change, Steward
from modelsteward.errors import InvalidInput
from modelsteward.governance.identity import Principal

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "modelsteward.lifecycle_actions"
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,127}$")
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
        try:
            return self.params_model.model_validate(dict(params))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidInput(f"action {self.name!r}: invalid params: {problems}") from None

    def execute(self, context: ActionContext) -> ActionResult:
        """Validate ``context.params`` and run the action where its ``runs`` says."""
        if self.runs == "in_transaction" and context.change is None:
            raise ValueError(f"action {self.name!r} runs in the engine's transaction; pass change")
        return self.run(context, self.parse_params(context.params))


_registered: dict[str, Action] = {}


@cache
def _discovered() -> dict[str, Action]:
    """Entry point actions; one that fails to load is logged and left out, so a broken
    plugin takes down only the definitions that name it (they fail validation)."""
    found: dict[str, Action] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            action = ep.load()
        except Exception:
            log.exception(
                "cannot load action %r from entry point group %s", ep.name, ENTRY_POINT_GROUP
            )
            continue
        if isinstance(action, Action):
            found[action.name] = action
        else:
            log.error("entry point %r in %s is not an Action", ep.name, ENTRY_POINT_GROUP)
    return found


def register_action(action: Action, *, replace: bool = False) -> Action:
    """Add an action in this process; a name already taken needs ``replace=True``."""
    if not _NAME.fullmatch(action.name):
        raise ValueError(
            f"invalid action name {action.name!r}: use lower-case letters, digits, _.-"
        )
    if not replace and (action.name in _registered or action.name in _discovered()):
        raise ValueError(f"an action named {action.name!r} is already registered")
    _registered[action.name] = action
    return action


def unregister_action(name: str) -> None:
    """Remove an action added with ``register_action`` (entry point actions stay)."""
    _registered.pop(name, None)


def available_actions() -> dict[str, Action]:
    return {**_discovered(), **_registered}


def action_names() -> list[str]:
    return sorted(available_actions())


def get_action(name: str) -> Action:
    actions = available_actions()
    if name not in actions:
        known = ", ".join(sorted(actions)) or "none registered"
        raise InvalidInput(f"unknown action {name[:64]!r}; known actions: {known}")
    return actions[name]
