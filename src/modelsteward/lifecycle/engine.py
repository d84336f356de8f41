"""The life cycle engine's doors: its reactions to events, and the public verbs.

Events reach the engine through the outbox dispatcher (``reactions``): a registered
version's instance is started, and every event is fed to the transitions whose
trigger names it (``event:deployment.changed``...). Events are matched to instances by
their payload (``model`` and ``version``) or by the object they are about: a version,
a model (all its running instances) or a deployment (the versions it routes to).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import StewardError
from modelsteward.events.domain import DomainEvent
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.instances import start_instance
from modelsteward.lifecycle.reading import get_task, instance_view, list_tasks, version_lifecycle
from modelsteward.lifecycle.snapshot import StaleInstance
from modelsteward.lifecycle.store import load_spec
from modelsteward.lifecycle.tables import LifecycleDefinition, LifecycleInstance
from modelsteward.lifecycle.timers import fire_due_timers
from modelsteward.lifecycle.transitions import advance, attempt, read_snapshot, transition
from modelsteward.store.tables import Deployment, Model, ModelVersion

__all__ = [
    "Triggers",
    "decide",
    "fire_due_timers",
    "get_task",
    "instance_view",
    "list_tasks",
    "on_event",
    "start_instance",
    "transition",
    "version_lifecycle",
]

log = logging.getLogger(__name__)
TRIGGERS_TTL_S = 5.0


class Triggers:
    """The event names some stored definition triggers on.

    Re-read when a definition is saved (``lifecycle.defined`` passes here too) and at
    least every ``TRIGGERS_TTL_S``, so most events cost no query at all.
    """

    def __init__(self) -> None:
        self._names: frozenset[str] = frozenset()
        self._fresh_until = 0.0
        self._lock = threading.Lock()

    def forget(self) -> None:
        self._fresh_until = 0.0

    def names(self, steward: Steward) -> frozenset[str]:
        with self._lock:
            if time.monotonic() >= self._fresh_until:
                found: set[str] = set()
                with steward.db.read() as session:
                    for document in session.scalars(select(LifecycleDefinition.spec)):
                        found |= {t.event for t in load_spec(document).transitions if t.event}
                self._names = frozenset(found)
                self._fresh_until = time.monotonic() + TRIGGERS_TTL_S
            return self._names


def on_event(steward: Steward, event: DomainEvent, triggers: Triggers | None = None) -> int:
    """Take the transitions ``event`` triggers; returns how many instances moved.

    Idempotent by nature: a transition applies only from the states it names, so an
    event delivered twice moves an instance once.
    """
    if triggers is not None:
        if event.name == "lifecycle.defined":
            triggers.forget()
        if event.name not in triggers.names(steward):
            return 0
    with steward.db.read() as session:
        targets = _instances_for(session, event)
    return sum(_apply_event(steward, instance_id, event) for instance_id in targets)


def _apply_event(steward: Steward, instance_id: int, event: DomainEvent) -> bool:
    snap = read_snapshot(steward, instance_id)
    if snap.status != "running":
        return False
    for spec in snap.spec.transitions_on(event.name):
        if snap.state not in spec.from_:
            continue
        try:
            result = attempt(steward, snap, spec, SYSTEM, reason=f"event {event.name}")
        except StaleInstance:
            return False
        except StewardError as exc:
            log.info("event %s: %s on instance %s: %s", event.name, spec.name, snap.id, exc)
            continue
        if result is not None and result.outcome == "applied":
            advance(steward, instance_id)
            return True
        if result is not None and result.outcome == "waiting":
            return False
    return False


def _running(session: Session, model_name: str, versions: list[int] | None) -> list[int]:
    query = (
        select(LifecycleInstance.id)
        .join(Model, Model.id == LifecycleInstance.model_id)
        .join(ModelVersion, ModelVersion.id == LifecycleInstance.version_id)
        .where(Model.name == model_name, LifecycleInstance.status == "running")
    )
    if versions is not None:
        query = query.where(ModelVersion.version.in_(versions))
    return list(session.scalars(query.order_by(LifecycleInstance.id)))


def _instances_for(session: Session, event: DomainEvent) -> list[int]:
    payload: dict[str, Any] = event.payload or {}
    model, version = payload.get("model"), payload.get("version")
    if isinstance(model, str) and isinstance(version, int):
        return _running(session, model, [version])
    if event.object_type in ("version", "lifecycle") and "/" in event.object_id:
        name, _, number = event.object_id.rpartition("/")
        return _running(session, name, [int(number)]) if number.isdecimal() else []
    if event.object_type == "deployment":
        served = session.scalar(
            select(Model.name)
            .join(Deployment, Deployment.model_id == Model.id)
            .where(Deployment.name == event.object_id)
        )
        routes = payload.get("routes")
        versions = (
            [r["version"] for r in routes if isinstance(r, dict) and "version" in r]
            if isinstance(routes, list)
            else None
        )
        return _running(session, served, versions) if served else []
    if event.object_type == "model":
        return _running(session, event.object_id, None)
    if isinstance(model, str):
        return _running(session, model, None)
    return []
