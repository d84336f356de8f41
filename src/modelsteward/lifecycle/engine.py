"""The life cycle engine's doors: subscribers on the event bus, and the public verbs.

``attach(steward)`` has every registered version's instance started by a background
thread (registration does not wait; a read starts an instance still missing, and the
scheduler's ``start_pending_instances`` catches up on the rest) and feeds domain
events to the transitions whose trigger names them (``event:deployment.changed``...).
Events are matched to instances by their payload (``model`` and ``version``) or by
the object they are about: a version, a model (all its running instances) or a
deployment (the versions it routes to).
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import StewardError
from modelsteward.events import DomainEvent, EventBus
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.instances import start_instance, start_pending_instances
from modelsteward.lifecycle.reading import get_task, instance_view, list_tasks, version_lifecycle
from modelsteward.lifecycle.snapshot import StaleInstance
from modelsteward.lifecycle.store import load_spec
from modelsteward.lifecycle.tables import LifecycleDefinition, LifecycleInstance
from modelsteward.lifecycle.timers import fire_due_timers
from modelsteward.lifecycle.transitions import advance, attempt, read_snapshot, transition
from modelsteward.store.tables import Deployment, Model, ModelVersion

__all__ = [
    "attach",
    "decide",
    "fire_due_timers",
    "get_task",
    "instance_view",
    "list_tasks",
    "on_event",
    "start_instance",
    "start_pending_instances",
    "transition",
    "version_lifecycle",
]

log = logging.getLogger(__name__)
MAX_EVENT_DEPTH = 8
TRIGGERS_TTL_S = 5.0
STARTER_IDLE_S = 2.0
STOP_WAIT_S = 10.0
_attached: weakref.WeakSet[EventBus] = weakref.WeakSet()
_starters: weakref.WeakSet[_Starter] = weakref.WeakSet()
_depth = threading.local()


class _Starter:
    """Starts the instances of newly registered versions, off the registering thread.

    One daemon thread per attached bus, alive only while there is work: it leaves after
    ``STARTER_IDLE_S`` without any and the next registration brings it back. A start
    that fails is logged and left to the first read and to ``start_pending_instances``.
    """

    def __init__(self, steward: Steward) -> None:
        self._steward = steward
        self._queue: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def submit(self, model: str, version: int) -> None:
        with self._lock:
            if self._stopped:
                return
            self._queue.put((model, version))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="steward-lifecycle-starts", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=STARTER_IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if item is None:
                return
            try:
                start_instance(self._steward, item[0], item[1], SYSTEM)
            except Exception:  # the thread must live on; reads and the scheduler retry
                log.exception("life cycle of %s version %s did not start", *item)

    def stop(self, timeout_s: float = STOP_WAIT_S) -> None:
        """Finish the versions already queued, then end the thread (at exit, too)."""
        with self._lock:
            self._stopped = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout_s)


@atexit.register
def _stop_starters() -> None:
    for starter in list(_starters):
        starter.stop()


class _Triggers:
    """The event names some stored definition triggers on.

    Re-read when this process saves a definition (``lifecycle.defined`` passes here
    too) and at least every ``TRIGGERS_TTL_S`` for definitions saved by other
    processes, so most events cost no query at all.
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


def attach(steward: Steward) -> None:
    """Subscribe the engine on ``steward.bus`` (once per bus, however often called)."""
    if steward.bus in _attached:
        return
    _attached.add(steward.bus)
    triggers = _Triggers()
    starter = _Starter(steward)
    _starters.add(starter)
    steward.bus.subscribe("version.registered", lambda event: _on_registered(starter, event))

    def _on_any(event: DomainEvent) -> None:
        on_event(steward, event, triggers)

    steward.bus.subscribe("*", _on_any)


def _on_registered(starter: _Starter, event: DomainEvent) -> None:
    model, _, number = event.object_id.rpartition("/")
    if model and number.isdecimal():
        starter.submit(model, int(number))


def on_event(steward: Steward, event: DomainEvent, triggers: _Triggers | None = None) -> int:
    """Take the transitions ``event`` triggers; returns how many instances moved."""
    depth = getattr(_depth, "value", 0)
    if depth >= MAX_EVENT_DEPTH:
        log.warning("event %s not applied to life cycles: events nested too deeply", event.name)
        return 0
    if triggers is not None:
        if event.name == "lifecycle.defined":
            triggers.forget()
        if event.name not in triggers.names(steward):
            return 0
    with steward.db.read() as session:
        targets = _instances_for(session, event)
    _depth.value = depth + 1
    try:
        return sum(_apply_event(steward, instance_id, event) for instance_id in targets)
    finally:
        _depth.value = depth


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
