"""Events alerting records about alerts (see docs/events.md and docs/alerting.md).

These payloads are the contract between the alert evaluation (which opens, acknowledges
and resolves alerts) and the notification channels (which subscribe to them): a channel
never reads alert tables to decide what to send.
"""

from __future__ import annotations

from typing import Literal

from modelsteward.events.catalogue import EventType, Payload

Severity = Literal["critical", "warning", "info"]
AlertState = Literal["firing", "acknowledged", "resolved"]


class AlertChanged(Payload):
    """An alert as it stands after the change, with what routing needs to know."""

    alert_id: int
    rule: str
    rule_id: int
    severity: Severity
    state: AlertState
    model: str
    deployment: str
    environment: str | None
    version: int | None
    monitor: str | None
    metric: str
    column: str
    segment: str
    value: float | None
    threshold: float | None
    low: float | None
    high: float | None
    window_end: str | None
    summary: str
    labels: dict[str, str]
    """Routing labels copied from the inventory: owner, team, risk_tier, environment,
    model, deployment, severity, rule (and the model's tags as ``tag_<name>``)."""
    opened_at: str
    suppressed_by: str | None = None
    """Why no one should be notified: ``silence N`` or ``inhibited by alert N``."""
    by: str | None = None
    """Who acknowledged or resolved it by hand (None when the metric recovered)."""
    reason: str | None = None


class RuleChanged(Payload):
    """An alert rule as stored (``alerting.specs.RuleSpec`` with id, origin and times);
    all empty when deleted (the audit record's ``before`` keeps it)."""

    id: int | None = None
    name: str | None = None
    description: str = ""
    metric: str | None = None
    monitor: str | None = None
    column: str | None = None
    segment: str | None = None
    condition: str | None = None
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    severity: Severity | None = None
    scope: dict[str, str | None] = {}
    pending: dict[str, int] = {}
    keep_firing_windows: int | None = None
    min_samples: int | None = None
    no_data: str | None = None
    labels: dict[str, str] = {}
    enabled: bool | None = None
    origin: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class SilenceChanged(Payload):
    id: int
    matchers: list[str]
    comment: str
    starts_at: str
    ends_at: str
    active: bool
    created_by: str
    expired_by: str | None = None


def _rule(name: str, meaning: str) -> EventType:
    return EventType(name, meaning, "alert_rule", RuleChanged)


EVENTS = [
    _rule(
        "alert_rule.created", "An alert rule was created (by a person, or a deployment's default)."
    ),
    _rule("alert_rule.updated", "An alert rule's spec or enabled flag changed."),
    _rule("alert_rule.deleted", "An alert rule that never raised an alert was deleted."),
    EventType(
        "silence.created", "A silence now mutes matching new alerts.", "silence", SilenceChanged
    ),
    EventType(
        "silence.expired", "A silence was ended by hand before its time.", "silence", SilenceChanged
    ),
    EventType("alert.opened", "A rule started firing for a target.", "alert", AlertChanged),
    EventType(
        "alert.acknowledged",
        "Someone took an open alert in hand; it stays open until resolved.",
        "alert",
        AlertChanged,
    ),
    EventType(
        "alert.resolved",
        "An alert closed: its metric recovered for the keep-firing period, or by hand.",
        "alert",
        AlertChanged,
    ),
]
