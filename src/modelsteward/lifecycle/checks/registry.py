"""The registry of automated checks that life cycle gates name.

A check is found by its stable name. Built-ins ship through the ``modelsteward.checks``
entry point group, the same door as third-party packages; code running in the
process (monitoring's ``drift_below_threshold``, a user's own Python check) adds
checks with ``register_check``. Definitions name checks; they never name code.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.registry.views import ModelView, VersionView

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "modelsteward.checks"
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,127}$")


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
        try:
            return self.params_model.model_validate(dict(params))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidInput(f"check {self.name!r}: invalid params: {problems}") from None

    def evaluate(self, context: CheckContext) -> CheckResult:
        """Validate ``context.params`` and run the check."""
        return self.run(context, self.parse_params(context.params))


_registered: dict[str, Check] = {}


@cache
def _discovered() -> dict[str, Check]:
    """Entry point checks; one that fails to load is logged and left out, so a broken
    plugin takes down only the definitions that name it (they fail validation)."""
    found: dict[str, Check] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            check = ep.load()
        except Exception:
            log.exception(
                "cannot load check %r from entry point group %s", ep.name, ENTRY_POINT_GROUP
            )
            continue
        if isinstance(check, Check):
            found[check.name] = check
        else:
            log.error("entry point %r in %s is not a Check", ep.name, ENTRY_POINT_GROUP)
    return found


def register_check(check: Check, *, replace: bool = False) -> Check:
    """Add a check in this process; a name already taken needs ``replace=True``."""
    if not _NAME.fullmatch(check.name):
        raise ValueError(f"invalid check name {check.name!r}: use lower-case letters, digits, _.-")
    if not replace and (check.name in _registered or check.name in _discovered()):
        raise ValueError(f"a check named {check.name!r} is already registered")
    _registered[check.name] = check
    return check


def unregister_check(name: str) -> None:
    """Remove a check added with ``register_check`` (entry point checks stay)."""
    _registered.pop(name, None)


def available_checks() -> dict[str, Check]:
    return {**_discovered(), **_registered}


def check_names() -> list[str]:
    return sorted(available_checks())


def get_check(name: str) -> Check:
    checks = available_checks()
    if name not in checks:
        known = ", ".join(sorted(checks)) or "none registered"
        raise InvalidInput(f"unknown check {name[:64]!r}; known checks: {known}")
    return checks[name]
