"""The life cycle's deployment policy: which states an environment admits.

A state admits the environments its ``admits`` lists, those its own ``deploy``
actions target (so the life cycle's own deploy always passes) and, for a
``production: true`` state, ``production``. An environment is gated by a life cycle
when some state admits it; ``production`` is always gated. A version may gain traffic
in a gated environment only from a state that admits it. A version whose instance has
not started yet stands in the initial state of the life cycle its rule picks; one that
no rule assigns follows no life cycle, and this guard leaves it alone.

Registered into serving through the ``modelsteward.deployment_guards`` entry point
(serving cannot import the life cycle, which imports serving for its actions).
"""

from __future__ import annotations

from collections import deque
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from modelsteward.lifecycle.rules import ModelFacts, pick_definition
from modelsteward.lifecycle.spec import LifecycleSpec, StateSpec, TransitionSpec
from modelsteward.lifecycle.store import load_spec
from modelsteward.lifecycle.tables import LifecycleDefinition, LifecycleInstance
from modelsteward.serving.admission import Candidate, DeploymentGuard, Refusal
from modelsteward.store.tables import Model, ModelVersion

ALWAYS_GATED = "production"
HEADLINE = "serving outside its life cycle"
_INSTANCES = cast(Table, LifecycleInstance.__table__)
_DEFINITIONS = cast(Table, LifecycleDefinition.__table__)


def environments_of(state: StateSpec) -> frozenset[str]:
    """The environments ``state`` admits, declared or implied (see the module docstring)."""
    implied = {
        str(a.params["environment"])
        for a in state.on_enter
        if a.action == "deploy" and "environment" in a.params
    }
    if state.production:
        implied.add(ALWAYS_GATED)
    return frozenset(state.admits) | implied


def admitting(spec: LifecycleSpec, environment: str) -> frozenset[str] | None:
    """The states of ``spec`` that admit ``environment``; None when it is not gated."""
    states = frozenset(s.name for s in spec.states if environment in environments_of(s))
    if not states and environment != ALWAYS_GATED:
        return None
    return states


def next_transition(spec: LifecycleSpec, state: str, goal: frozenset[str]) -> TransitionSpec | None:
    """The first transition on a shortest path from ``state`` into ``goal`` (breadth first)."""
    first: dict[str, TransitionSpec | None] = {state: None}
    queue = deque([state])
    while queue:
        here = queue.popleft()
        for transition in spec.transitions_from(here):
            if transition.to in first:
                continue
            first[transition.to] = first[here] or transition
            if transition.to in goal:
                return first[transition.to]
            queue.append(transition.to)
    return None


def _standing(session: Session, candidate: Candidate) -> tuple[str, str, LifecycleSpec] | None:
    """(state, life cycle name, spec) of the candidate version, or None for no life cycle."""
    version = session.execute(
        select(ModelVersion.id, ModelVersion.tags).where(
            ModelVersion.model_id == candidate.model_id,
            ModelVersion.version == candidate.version,
        )
    ).first()
    if version is None:
        return None
    row = session.execute(
        select(_INSTANCES.c.state, _DEFINITIONS.c.name, _DEFINITIONS.c.spec)
        .join_from(_INSTANCES, _DEFINITIONS, _DEFINITIONS.c.id == _INSTANCES.c.definition_id)
        .where(_INSTANCES.c.version_id == version.id)
    ).first()
    if row is not None:
        return row.state, row.name, load_spec(row.spec)
    model = session.get(Model, candidate.model_id)
    if model is None:
        return None
    tags = {**(model.tags or {}), **(version.tags or {})}
    assigned = pick_definition(
        session.connection(), ModelFacts(model.id, model.risk_tier, model.team, tags)
    )
    if assigned is None:
        return None
    return assigned.spec.initial, assigned.name, assigned.spec


def check(session: Session, candidate: Candidate) -> Refusal | None:
    standing = _standing(session, candidate)
    if standing is None:
        return None
    state, lifecycle, spec = standing
    admitted = admitting(spec, candidate.environment)
    if admitted is None or state in admitted:
        return None
    target = f"{candidate.model} v{candidate.version}"
    env = candidate.environment
    allowed = ", ".join(sorted(admitted)) or "no state"
    message = (
        f"{target} may not serve in {env}: it is in state {state!r} of life cycle "
        f"{lifecycle!r}, and {env} admits only {allowed}."
    )
    step = next_transition(spec, state, admitted)
    if step is not None:
        message += (
            f" Take transition {step.name!r} next "
            f"(steward lifecycle move {candidate.model}:{candidate.version} {step.name})."
        )
    else:
        message += f" No transition leads from {state!r} to a state {env} admits."
    return Refusal(
        HEADLINE,
        message,
        {
            "guard": "lifecycle",
            "model": candidate.model,
            "version": candidate.version,
            "environment": env,
            "lifecycle": lifecycle,
            "state": state,
            "admitted_states": sorted(admitted),
            "next_transition": step.name if step else None,
        },
    )


GUARD = DeploymentGuard(
    name="lifecycle",
    description="An environment admits only the life cycle states its definition allows there.",
    check=check,
)
