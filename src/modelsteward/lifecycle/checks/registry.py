"""The registry of automated checks that life cycle gates name.

A check is found by its stable name. Built-ins ship through the ``modelsteward.checks``
entry point group, the same door as third-party packages; code running in the
process (a user's own Python check) adds checks with ``register_check``.
Definitions name checks; they never name code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from modelsteward.context import Steward
from modelsteward.plugins import NamedRegistry, validate_params
from modelsteward.registry.views import ModelView, VersionView

ENTRY_POINT_GROUP = "modelsteward.checks"


class NoParams(BaseModel):
    """For checks that take no parameters: any given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CheckContext:
    """What a check may look at: the version on its way through the life cycle."""

    steward: Steward
    model: ModelView
    version: VersionView
    instance_id: int | str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """A check's verdict; ``summary`` is one line a person reads in the task or history."""

    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """A named check, its parameter model and the function that runs it."""

    name: str
    description: str
    params_model: type[BaseModel]
    run: Callable[[CheckContext, Any], CheckResult]

    def parse_params(self, params: Mapping[str, Any]) -> BaseModel:
        """Validate a gate's ``params``; ``InvalidInput`` lists what is wrong."""
        return validate_params(self.params_model, params, f"check {self.name!r}")

    def evaluate(self, context: CheckContext) -> CheckResult:
        """Validate ``context.params`` and run the check."""
        return self.run(context, self.parse_params(context.params))


REGISTRY: NamedRegistry[Check] = NamedRegistry(ENTRY_POINT_GROUP, "check", Check)


def register_check(check: Check, *, replace: bool = False) -> Check:
    """Add a check in this process; a name already taken needs ``replace=True``."""
    return REGISTRY.register(check, replace=replace)


def unregister_check(name: str) -> None:
    """Remove a check added with ``register_check`` (entry point checks stay)."""
    REGISTRY.unregister(name)


def available_checks() -> dict[str, Check]:
    return REGISTRY.available()


def check_names() -> list[str]:
    return REGISTRY.names()


def get_check(name: str) -> Check:
    return REGISTRY.get(name)
