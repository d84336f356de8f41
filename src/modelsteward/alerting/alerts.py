"""Alerts as people see and handle them: list, show, acknowledge, resolve by hand.

Every change of an alert is one audited change that records ``alert.opened``,
``alert.acknowledged`` or ``alert.resolved`` with the ``AlertChanged`` payload the
channels route by. ``open_alert`` and ``close_alert`` are also what the evaluation
calls, so a hand resolve and a recovery write the same records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelsteward.alerting.events import AlertChanged
from modelsteward.alerting.tables import Alert, AlertState
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.names import check_label
from modelsteward.store.tables import as_utc

if TYPE_CHECKING:
    from modelsteward.context import Change, Steward

STATES = ("firing", "acknowledged", "resolved")
OPEN = ("firing", "acknowledged")
MAX_LIMIT = 1000


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def view(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule": alert.rule,
        "rule_id": alert.rule_id,
        "severity": alert.severity,
        "state": alert.state,
        "model": alert.model,
        "deployment": alert.deployment,
        "environment": alert.environment,
        "version": alert.version,
        "monitor": alert.monitor,
        "monitor_type": alert.monitor_type,
        "metric": alert.metric,
        "column": alert.column_name,
        "segment": alert.segment,
        "value": alert.value,
        "threshold": alert.threshold,
        "low": alert.low,
        "high": alert.high,
        "window_end": _iso(alert.window_end),
        "summary": alert.summary,
        "labels": alert.labels,
        "suppressed_by": alert.suppressed_by,
        "opened_at": _iso(alert.opened_at),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": _iso(alert.resolved_at),
        "resolved_by": alert.resolved_by,
        "reason": alert.reason,
    }


def payload(alert: Alert, by: str | None = None, reason: str | None = None) -> dict[str, Any]:
    shown = view(alert)
    shown["opened_at"] = shown["opened_at"] or datetime.now(UTC).isoformat()
    shown["alert_id"] = shown.pop("id")
    shown["by"], shown["reason"] = by, reason or None
    fields = {k: v for k, v in shown.items() if k in AlertChanged.model_fields}
    return AlertChanged.model_validate(fields).model_dump(mode="json")


def record(change: Change, name: str, alert: Alert, *, by: str | None = None) -> None:
    reason = alert.reason if name != "alert.opened" else None
    body = payload(alert, by, reason)
    change.record(name, "alert", alert.id, after={"state": alert.state}, payload=body)


def open_alert(change: Change, alert: Alert) -> Alert:
    """Store a new firing alert and record ``alert.opened``; the open key dedups."""
    session = change.session
    known = session.scalar(select(Alert).where(Alert.open_key == alert.open_key))
    if known is not None:
        return known
    session.add(alert)
    session.flush()
    record(change, "alert.opened", alert)
    return alert


def close_alert(change: Change, alert: Alert, by: str | None, reason: str) -> None:
    """Resolve an open alert (by a person, or by None when the metric recovered)."""
    alert.state, alert.open_key = "resolved", None
    alert.resolved_at, alert.resolved_by, alert.reason = datetime.now(UTC), by, reason
    change.session.flush()
    record(change, "alert.resolved", alert, by=by)


def _find(session: Session, alert_id: int, *, lock: bool = False) -> Alert:
    query = select(Alert).where(Alert.id == alert_id)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no alert {alert_id}")
    return found


def list_alerts(
    steward: Steward,
    *,
    state: str = "open",
    severity: str | None = None,
    model: str | None = None,
    deployment: str | None = None,
    rule: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first. ``state`` is open (firing or acknowledged), one state, or all."""
    query = select(Alert)
    if state == "open":
        query = query.where(Alert.state.in_(OPEN))
    elif state in STATES:
        query = query.where(Alert.state == state)
    elif state != "all":
        raise InvalidInput(f"state must be open, all or one of {', '.join(STATES)}")
    for column, wanted in (
        (Alert.severity, severity),
        (Alert.model, model),
        (Alert.deployment, deployment),
        (Alert.rule, rule),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    query = query.order_by(Alert.id.desc()).limit(min(limit, MAX_LIMIT)).offset(offset)
    with steward.db.read() as session:
        return [view(a) for a in session.scalars(query)]


def counts_by_severity(steward: Steward) -> dict[str, int]:
    """Open alerts per severity: the navigation's badge."""
    with steward.db.read() as session:
        rows = session.execute(
            select(Alert.severity, func.count())
            .where(Alert.state.in_(OPEN))
            .group_by(Alert.severity)
        ).all()
    return {severity: count for severity, count in rows}


def worst_open_by_model(steward: Steward) -> dict[str, str]:
    """Each model's most severe open alert: the inventory's fleet-at-a-glance column."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    worst: dict[str, str] = {}
    with steward.db.read() as session:
        rows = session.execute(
            select(Alert.model, Alert.severity).where(Alert.state.in_(OPEN)).distinct()
        ).all()
    for model, severity in rows:
        if model not in worst or rank.get(severity, 3) < rank.get(worst[model], 3):
            worst[model] = severity
    return worst


def get_alert(steward: Steward, alert_id: int) -> dict[str, Any]:
    with steward.db.read() as session:
        return view(_find(session, alert_id))


def acknowledge(steward: Steward, actor: str, alert_id: int, reason: str = "") -> dict[str, Any]:
    """Take an alert in hand: it stays open (and still resolves when the metric recovers)."""
    if reason:
        check_label(reason, what="reason", max_length=2000)
    with steward.change(actor) as change:
        alert = _find(change.session, alert_id, lock=True)
        if alert.state != "firing":
            raise Conflict(
                f"alert {alert_id} is {alert.state}; only a firing alert is acknowledged"
            )
        alert.state, alert.acknowledged_at, alert.acknowledged_by = (
            "acknowledged",
            datetime.now(UTC),
            actor,
        )
        alert.reason = reason
        change.session.flush()
        record(change, "alert.acknowledged", alert, by=actor)
        return view(alert)


def resolve(steward: Steward, actor: str, alert_id: int, reason: str) -> dict[str, Any]:
    """Close an alert by hand; the reason is required and kept. The rule starts afresh
    for its target, so a breach that goes on opens a new alert."""
    check_label(reason or "", what="reason", max_length=2000)
    with steward.change(actor) as change:
        alert = _find(change.session, alert_id, lock=True)
        if alert.state == "resolved":
            raise Conflict(f"alert {alert_id} is already resolved")
        close_alert(change, alert, actor, reason)
        state = change.session.scalar(select(AlertState).where(AlertState.alert_id == alert.id))
        if state is not None:
            state.firing, state.recent, state.ok_streak, state.alert_id = False, [], 0, None
        return view(alert)
