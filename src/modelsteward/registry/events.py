"""Events the registry records: models, versions and aliases (see docs/events.md)."""

from __future__ import annotations

from typing import Any

from modelsteward.events.catalogue import EventType, Payload


class ModelState(Payload):
    name: str
    status: str
    description: str
    owner: str | None
    team: str
    use_case: str
    risk_tier: str
    tags: dict[str, Any]


class OwnerChange(Payload):
    """Who owns the model now and before (user names; None: no owner), and why."""

    owner: str | None
    previous_owner: str | None
    reason: str


class VersionRegistered(Payload):
    version: int
    flavor: str
    content_hash: str
    files: list[dict[str, Any]]
    trust: dict[str, Any] | None


class VersionStatus(Payload):
    status: str


class VersionTrust(Payload):
    """The version's trust decision, as requested at registration and now granted."""

    reason: str
    requested_by: str
    requested_at: str
    granted_by: str
    granted_at: str
    grant_reason: str


class AliasChange(Payload):
    alias: str
    version: int | None


EVENTS = [
    EventType("model.created", "A model entered the inventory.", "model", ModelState),
    EventType(
        "model.updated",
        "A model's description, team, use case, risk tier or tags changed.",
        "model",
        ModelState,
    ),
    EventType(
        "model.owner_changed",
        "A model was handed to another owner (a governed transfer, with its reason).",
        "model",
        OwnerChange,
    ),
    EventType("model.archived", "A model was archived (nothing is deleted).", "model", ModelState),
    EventType("model.restored", "An archived model was made active again.", "model", ModelState),
    EventType(
        "version.registered",
        "A new immutable model version was registered.",
        "version",
        VersionRegistered,
    ),
    EventType(
        "version.archived",
        "A version was archived: it can no longer be deployed.",
        "version",
        VersionStatus,
    ),
    EventType(
        "version.restored", "An archived version was made active again.", "version", VersionStatus
    ),
    EventType(
        "version.trusted",
        "Someone recorded the explicit decision to load a code-executing artifact.",
        "version",
        VersionTrust,
    ),
    EventType(
        "alias.moved",
        "An alias (champion, challenger...) now points at another version.",
        "model",
        AliasChange,
    ),
    EventType(
        "alias.removed",
        "An alias was removed; version is the one it pointed at.",
        "model",
        AliasChange,
    ),
]
