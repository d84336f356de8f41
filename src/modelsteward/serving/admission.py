"""Deployment guards: who may refuse a version its place in an environment's routes.

Serving decides how traffic is routed, not which versions are fit to serve where:
that is the life cycle's word (and, later, governance's). Those services import
serving (the life cycle's ``deploy`` action requests deployments), so serving cannot
import them back. Instead it declares this door: a guard is a named function that
looks at one version about to gain traffic in one environment and returns a
``Refusal`` or None. Guards ship through the ``modelsteward.deployment_guards``
entry point group, the built-in life cycle guard included; a guard that fails to load
refuses every deployment (fail closed), since a missing guard must not open the gate.

A version *gains* traffic when a change routes it where it was not, gives it another
role, or raises a challenger's share; a champion whose share grows because its
challenger is drained gains nothing, so draining and rolling back to what already
served are never refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy.orm import Session

from modelsteward.context import Change
from modelsteward.errors import Conflict, Forbidden, InvalidInput
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.serving.plan import Route
from modelsteward.serving.views import Unadmitted
from modelsteward.store.tables import Model

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "modelsteward.deployment_guards"


@dataclass(frozen=True)
class Candidate:
    """One version about to gain traffic (or, for pages, serving) in one environment."""

    model: str
    model_id: int
    version: int
    environment: str


@dataclass(frozen=True)
class Refusal:
    """Why a guard refuses: ``headline`` for pages, ``message`` with what to do next."""

    headline: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeploymentGuard:
    name: str
    description: str
    check: Callable[[Session, Candidate], Refusal | None]


class _Guards:
    def __init__(self) -> None:
        self._registered: dict[str, DeploymentGuard] = {}
        self._discovered: dict[str, DeploymentGuard] | None = None
        self.broken: list[str] = []

    def discovered(self) -> dict[str, DeploymentGuard]:
        if self._discovered is None:
            found: dict[str, DeploymentGuard] = {}
            broken: list[str] = []
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    guard = ep.load()
                except Exception:
                    log.exception("cannot load deployment guard %r", ep.name)
                    broken.append(ep.name)
                    continue
                if isinstance(guard, DeploymentGuard):
                    found[guard.name] = guard
                else:
                    log.error("entry point %r is not a DeploymentGuard", ep.name)
                    broken.append(ep.name)
            self._discovered, self.broken = found, broken
        return self._discovered

    def available(self) -> list[DeploymentGuard]:
        return [*self.discovered().values(), *self._registered.values()]

    def register(self, guard: DeploymentGuard) -> None:
        if guard.name in self._registered or guard.name in self.discovered():
            raise ValueError(f"a deployment guard named {guard.name!r} is already registered")
        self._registered[guard.name] = guard

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)


GUARDS = _Guards()


def register_guard(guard: DeploymentGuard) -> None:
    """Add a guard in this process (tests, embedding code); entry points are the usual door."""
    GUARDS.register(guard)


def unregister_guard(name: str) -> None:
    GUARDS.unregister(name)


def refusals(session: Session, candidate: Candidate) -> list[Refusal]:
    """What every guard says against ``candidate``; empty when all admit it."""
    found = [r for g in GUARDS.available() if (r := g.check(session, candidate)) is not None]
    for name in GUARDS.broken:
        found.append(
            Refusal(
                "unguarded",
                f"deployment guard {name!r} could not be loaded, so no deployment is admitted; "
                "see the server log",
                {"guard": name},
            )
        )
    return found


def unadmitted(
    session: Session, model: Model, environment: str, routes: Sequence[Route]
) -> list[Unadmitted]:
    """The routes whose versions a guard refuses in ``environment`` as things stand now."""
    return [
        Unadmitted(
            version=route["version"], role=route["role"], headline=r.headline, message=r.message
        )
        for route in routes
        for r in refusals(session, Candidate(model.name, model.id, route["version"], environment))
    ]


def gains(before: Sequence[Route], after: Sequence[Route]) -> list[int]:
    """The versions ``after`` routes where ``before`` did not, in a new role, or with a
    larger challenger share (see the module docstring)."""
    old = {r["version"]: r for r in before}
    gained = []
    for route in after:
        was = old.get(route["version"])
        if (
            was is None
            or was["role"] != route["role"]
            or (route["role"] == "challenger" and route["weight"] > was["weight"])
        ):
            gained.append(route["version"])
    return gained


MAX_OVERRIDE_REASON = 500


def override_reason(actor: Principal, override: str | None) -> str | None:
    """A break-glass reason, checked: ``Forbidden`` for a role without the permission."""
    if override is None:
        return None
    if not actor.can(Permission.DEPLOY_OVERRIDE):
        raise Forbidden(
            f"role {actor.role!r} lacks permission {Permission.DEPLOY_OVERRIDE.value!r}, "
            "which an override of the deployment policy needs"
        )
    reason = " ".join(override.split())
    if not reason:
        raise InvalidInput("an override needs a reason: say why this version must serve now")
    if len(reason) > MAX_OVERRIDE_REASON:
        raise InvalidInput(f"an override reason is at most {MAX_OVERRIDE_REASON} characters")
    return reason


def admit(
    change: Change,
    *,
    deployment: str,
    environment: str,
    model: Model,
    before: Sequence[Route],
    after: Sequence[Route],
    override: str | None,
) -> list[Refusal]:
    """Refuse (409) a change that gives traffic to a version a guard refuses, unless
    ``override`` (already checked by ``override_reason``) is given: then the refusals
    are put on record as ``deployment.overridden`` in the change's transaction."""
    refused: list[tuple[int, Refusal]] = []
    for version in gains(before, after):
        candidate = Candidate(model.name, model.id, version, environment)
        refused += [(version, r) for r in refusals(change.session, candidate)]
    if not refused:
        return []
    if override is None:
        raise Conflict(
            " ".join(r.message for _, r in refused)
            + " A person with the deployment.override permission may override it with a reason.",
            details={"refusals": [{"version": v, **r.details} for v, r in refused]},
        )
    change.record(
        "deployment.overridden",
        "deployment",
        deployment,
        after={
            "model": model.name,
            "environment": environment,
            "reason": override,
            "refusals": [{"version": v, "message": r.message, **r.details} for v, r in refused],
        },
    )
    return [r for _, r in refused]
