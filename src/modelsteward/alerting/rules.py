"""What people do with alert rules: create, change, list, delete.

Every change is one audited change recording ``alert_rule.created``, ``.updated`` or
``.deleted``. A rule's spec is validated on every write (a 422 names the field). An
update replaces the fields it gives and keeps the rest; changing what a rule watches
or when it fires starts its evaluation afresh (the stored per-target state is dropped,
open alerts stay until they resolve).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from modelsteward.alerting.specs import RuleSpec, parse_rule
from modelsteward.alerting.tables import Alert, AlertRule, AlertState
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.store.tables import as_utc

if TYPE_CHECKING:
    from modelsteward.context import Steward

ORIGINS = ("user", "default")


def view(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        **rule.spec,
        "enabled": rule.enabled,
        "origin": rule.origin,
        "created_by": rule.created_by,
        "created_at": as_utc(rule.created_at).isoformat(),
        "updated_at": as_utc(rule.updated_at).isoformat(),
    }


def find(session: Session, name: str) -> AlertRule:
    rule = session.scalar(select(AlertRule).where(AlertRule.name == name))
    if rule is None:
        raise NotFound(f"no alert rule named {name[:128]!r}")
    return rule


def create_rule(
    steward: Steward, actor: str, data: dict[str, Any], *, origin: str = "user"
) -> dict[str, Any]:
    spec = parse_rule(data)
    now = datetime.now(UTC)
    with steward.change(actor) as change:
        session = change.session
        if session.scalar(select(AlertRule.id).where(AlertRule.name == spec.name)) is not None:
            raise Conflict(f"an alert rule named {spec.name!r} exists")
        rule = AlertRule(
            name=spec.name,
            spec=spec.model_dump(mode="json"),
            enabled=spec.enabled,
            origin=origin,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        session.add(rule)
        session.flush()
        shown = view(rule)
        change.record("alert_rule.created", "alert_rule", rule.id, after=shown)
        return shown


def update_rule(steward: Steward, actor: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict) or not data:
        raise InvalidInput("give the fields to change as a JSON object")
    if "name" in data and data["name"] != name:
        raise InvalidInput("name: a rule cannot be renamed; create a new one")
    with steward.change(actor) as change:
        session = change.session
        rule = find(session, name)
        before = view(rule)
        spec = parse_rule({**rule.spec, **data})
        watching = {k: v for k, v in rule.spec.items() if k not in ("description", "severity")}
        rule.spec, rule.enabled = spec.model_dump(mode="json"), spec.enabled
        rule.updated_at = datetime.now(UTC)
        changed = {k: v for k, v in rule.spec.items() if k not in ("description", "severity")}
        if changed != watching:
            session.execute(delete(AlertState).where(AlertState.rule_id == rule.id))
        session.flush()
        shown = view(rule)
        change.record("alert_rule.updated", "alert_rule", rule.id, before=before, after=shown)
        return shown


def delete_rule(steward: Steward, actor: str, name: str) -> None:
    """Delete a rule that never raised an alert. One with alerts on record is disabled
    instead (``enabled: false``), so the history an auditor reads keeps its rule."""
    with steward.change(actor) as change:
        session = change.session
        rule = find(session, name)
        raised = session.scalar(select(Alert.id).where(Alert.rule_id == rule.id).limit(1))
        if raised is not None:
            raise Conflict(
                f"rule {name!r} has alerts on record (alert {raised}); disable it instead "
                "so their history keeps its rule"
            )
        before = view(rule)
        session.execute(delete(AlertState).where(AlertState.rule_id == rule.id))
        session.delete(rule)
        change.record("alert_rule.deleted", "alert_rule", before["id"], before=before, after={})


def list_rules(steward: Steward, *, deployment: str | None = None) -> list[dict[str, Any]]:
    with steward.db.read() as session:
        rows = session.scalars(select(AlertRule).order_by(AlertRule.name)).all()
    shown = [view(r) for r in rows]
    if deployment is not None:
        shown = [r for r in shown if r["scope"].get("deployment") in (None, deployment)]
    return shown


def get_rule(steward: Steward, name: str) -> dict[str, Any]:
    with steward.db.read() as session:
        return view(find(session, name))


def spec_of(steward: Steward, name: str) -> tuple[int, RuleSpec]:
    with steward.db.read() as session:
        rule = find(session, name)
        return rule.id, RuleSpec.model_validate(rule.spec)
