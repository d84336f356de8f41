"""Events serving records: environments and deployments (see docs/events.md)."""

from __future__ import annotations

from typing import Any

from modelsteward.events.catalogue import EventType, Payload


class EnvironmentCreated(Payload):
    name: str


class DeploymentRequested(Payload):
    revision: int
    routes: list[dict[str, Any]]
    reason: str


class DeploymentChanged(Payload):
    revision: int
    routes: list[dict[str, Any]]


class DeploymentFailed(Payload):
    revision: int
    status: str
    detail: str


class DeploymentOverridden(Payload):
    """A break-glass deployment: versions served although their life cycle refuses it."""

    model: str
    environment: str
    reason: str
    refusals: list[dict[str, Any]]


EVENTS = [
    EventType(
        "environment.created",
        "An environment (production, staging...) was created on first use.",
        "environment",
        EnvironmentCreated,
    ),
    EventType(
        "deployment.requested",
        "A new revision of a deployment's routes was requested; a rollout will apply it.",
        "deployment",
        DeploymentRequested,
    ),
    EventType(
        "deployment.changed",
        "A revision passed every rollout step and now serves.",
        "deployment",
        DeploymentChanged,
    ),
    EventType(
        "deployment.failed",
        "A revision failed a rollout step; the previous one keeps serving.",
        "deployment",
        DeploymentFailed,
    ),
    EventType(
        "deployment.overridden",
        "Someone authorised served a version outside its life cycle, with a reason.",
        "deployment",
        DeploymentOverridden,
    ),
]
