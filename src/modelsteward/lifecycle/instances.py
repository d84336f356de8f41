"""Starting an instance: one per model version, on the life cycle its model's rules pick.

Registration does not wait for it. The ``lifecycle.start`` subscriber (``reactions``)
starts it when the outbox dispatcher delivers ``version.registered``: durably, so a
crash in between loses nothing, and versions registered while no dispatcher ran start
once one does. The first read of a version that has none starts it on the spot (a
version registered before the outbox existed, too). A start is idempotent: the unique
``version_id`` keeps one instance whoever races. The initial state is entered like
any other, so its timers and actions run, and ``auto`` transitions that pass are taken
at once. Starting reads plain rows and writes in one transaction: a few milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from modelsteward.context import Steward
from modelsteward.errors import NotFound
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.effects import (
    PendingAction,
    add_history,
    enter_state,
    keep_production,
    run_pending,
)
from modelsteward.lifecycle.rules import ModelFacts, pick_definition
from modelsteward.lifecycle.snapshot import Snapshot
from modelsteward.lifecycle.tables import LifecycleInstance
from modelsteward.names import check_name
from modelsteward.store.tables import Model, ModelVersion, utcnow

log = logging.getLogger(__name__)
SETTLE_S = 10.0
_MODELS = cast(Table, Model.__table__)
_VERSIONS = cast(Table, ModelVersion.__table__)
_INSTANCES = cast(Table, LifecycleInstance.__table__)
_SUBJECT = (
    select(
        _MODELS.c.id,
        _MODELS.c.risk_tier,
        _MODELS.c.team,
        _MODELS.c.tags,
        _VERSIONS.c.id.label("version_id"),
        _VERSIONS.c.status,
        _VERSIONS.c.tags.label("version_tags"),
        _INSTANCES.c.id.label("instance_id"),
    )
    .join_from(_MODELS, _VERSIONS, _VERSIONS.c.model_id == _MODELS.c.id)
    .outerjoin(_INSTANCES, _INSTANCES.c.version_id == _VERSIONS.c.id)
    .where(_MODELS.c.name == bindparam("model"), _VERSIONS.c.version == bindparam("version"))
)
_ADD_INSTANCE = insert(_INSTANCES)


class _Starts:
    """Versions this process is starting right now, so that a read waits for the start
    (auto transitions included) instead of seeing it half done.

    Only a courtesy within one process: the database's unique ``version_id`` is what
    keeps a start single, so a wait that times out simply goes ahead.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._owners: dict[tuple[str, str, int], int] = {}

    def _wait(self, key: tuple[str, str, int], wait_s: float) -> bool:
        me, deadline = threading.get_ident(), time.monotonic() + wait_s
        while self._owners.get(key, me) != me:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.wait(left)
        return True

    def settle(self, key: tuple[str, str, int], wait_s: float = SETTLE_S) -> None:
        with self._changed:
            self._wait(key, wait_s)

    @contextmanager
    def claim(self, key: tuple[str, str, int], wait_s: float) -> Iterator[None]:
        with self._changed:
            owned = self._wait(key, wait_s) and key not in self._owners
            if owned:
                self._owners[key] = threading.get_ident()
        try:
            yield
        finally:
            if owned:
                with self._changed:
                    del self._owners[key]
                    self._changed.notify_all()


_starts = _Starts()


def settle(steward: Steward, model_name: str, version: int) -> None:
    """Wait (a little) for a start of this version that another thread has under way."""
    _starts.settle((steward.db.url, model_name, version))


def start_instance(
    steward: Steward,
    model_name: str,
    version: int,
    actor: Principal = SYSTEM,
    *,
    wait_s: float = SETTLE_S,
) -> int | None:
    """Start ``model_name`` version ``version`` on its life cycle; its instance's id.

    None when no rule matches the model, or the version is archived and never started.
    """
    check_name(model_name, what="model name")
    with _starts.claim((steward.db.url, model_name, version), wait_s):
        return _start(steward, model_name, version, actor)


def _start(steward: Steward, model_name: str, version: int, actor: Principal) -> int | None:
    with steward.db.query() as conn:
        row = conn.execute(_SUBJECT, {"model": model_name, "version": version}).first()
        if row is None:
            raise NotFound(f"model {model_name!r} has no version {version}")
        if row.instance_id is not None:
            return int(row.instance_id)
        if row.status != "active":
            return None
        tags = {**(row.tags or {}), **(row.version_tags or {})}  # the version's own win
        model = ModelFacts(row.id, row.risk_tier, row.team, tags)
        definition = pick_definition(conn, model)
    if definition is None:
        log.info("no life cycle rule matches model %s", model_name)
        return None
    spec = definition.spec
    initial = spec.state(spec.initial)
    pending: list[PendingAction] = []
    try:
        with steward.change(actor.name) as change:
            now = utcnow()
            status = "finished" if initial.terminal else "running"
            inserted = change.connection.execute(
                _ADD_INSTANCE,
                {
                    "version_id": row.version_id,
                    "model_id": model.id,
                    "definition_id": definition.id,
                    "state": initial.name,
                    "revision": 1,
                    "visit": 1,
                    "status": status,
                    "started_at": now,
                    "updated_at": now,
                },
            ).inserted_primary_key
            assert inserted is not None  # an INSERT of one row always has its key
            snap = Snapshot(
                id=int(inserted[0]),
                model_id=model.id,
                version_id=row.version_id,
                model=model_name,
                version=version,
                definition_id=definition.id,
                definition=definition.name,
                definition_version=definition.version,
                spec=spec,
                state=initial.name,
                revision=1,
                visit=1,
                status=status,
            )
            if snap.in_production:  # an initial production state takes the production row
                keep_production(change.connection, replace(snap, state=""), snap.state, now)
            add_history(
                change.connection,
                snap,
                outcome="started",
                actor=actor.name,
                at=now,
                to_state=initial.name,
                reason=f"life cycle {definition.name} v{definition.version}",
            )
            change.record(
                "lifecycle.started",
                "lifecycle",
                snap.subject,
                after={
                    "definition": definition.name,
                    "definition_version": definition.version,
                    "state": initial.name,
                },
                payload={
                    "model": model_name,
                    "version": version,
                    "instance": snap.id,
                    "to": initial.name,
                    "production": snap.in_production,
                },
            )
            enter_state(change, steward, snap, actor, now, pending)
    except IntegrityError:  # started at the same moment elsewhere
        with steward.db.query() as conn:
            again = conn.execute(_SUBJECT, {"model": model_name, "version": version}).first()
        return int(again.instance_id) if again and again.instance_id is not None else None
    run_pending(steward, snap, pending)
    if any(t.trigger == "auto" for t in spec.transitions_from(initial.name)):
        # Imported here: transitions reads views, and reading starts instances.
        from modelsteward.lifecycle.transitions import advance

        advance(steward, snap.id)
    return snap.id
