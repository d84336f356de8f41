"""An instance as read at one moment, and the lock that proves it is still so.

The engine reads a snapshot, does slow work (checks) outside any transaction, then
in the write transaction locks the instance row and compares its ``revision``: a
change in between turns the request into a 409, never into a double transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from modelsteward.errors import Conflict, NotFound
from modelsteward.lifecycle.spec import LifecycleSpec, StateSpec
from modelsteward.lifecycle.store import load_spec
from modelsteward.lifecycle.tables import LifecycleDefinition, LifecycleInstance
from modelsteward.names import check_name
from modelsteward.store.tables import Model, ModelVersion

_INSTANCES = cast(Table, LifecycleInstance.__table__)
_DEFINITIONS = cast(Table, LifecycleDefinition.__table__)
_VERSIONS = cast(Table, ModelVersion.__table__)
_MODELS = cast(Table, Model.__table__)

_SNAPSHOT = (
    select(
        _INSTANCES.c.id,
        _INSTANCES.c.model_id,
        _INSTANCES.c.version_id,
        _MODELS.c.name.label("model"),
        _VERSIONS.c.version,
        _INSTANCES.c.definition_id,
        _DEFINITIONS.c.name.label("definition"),
        _DEFINITIONS.c.version.label("definition_version"),
        _DEFINITIONS.c.spec,
        _INSTANCES.c.state,
        _INSTANCES.c.revision,
        _INSTANCES.c.visit,
        _INSTANCES.c.status,
    )
    .join_from(_INSTANCES, _DEFINITIONS, _DEFINITIONS.c.id == _INSTANCES.c.definition_id)
    .join(_VERSIONS, _VERSIONS.c.id == _INSTANCES.c.version_id)
    .join(_MODELS, _MODELS.c.id == _INSTANCES.c.model_id)
)


class StaleInstance(Conflict):
    """The instance changed between the caller's read and this write."""


@dataclass(frozen=True)
class Snapshot:
    id: int
    model_id: int
    version_id: int
    model: str
    version: int
    definition_id: int
    definition: str
    definition_version: int
    spec: LifecycleSpec
    state: str
    revision: int
    visit: int
    status: str

    @property
    def subject(self) -> str:
        """The audit object id: ``model/version``."""
        return f"{self.model}/{self.version}"

    @property
    def state_spec(self) -> StateSpec:
        return self.spec.state(self.state)

    @property
    def in_production(self) -> bool:
        return self.state in self.spec.production_states


def load_snapshot(session: Session, instance_id: int) -> Snapshot:
    row = session.execute(_SNAPSHOT.where(_INSTANCES.c.id == instance_id)).first()
    if row is None:
        raise NotFound(f"life cycle instance {instance_id} not found")
    values = row._mapping
    return Snapshot(
        id=values["id"],
        model_id=values["model_id"],
        version_id=values["version_id"],
        model=values["model"],
        version=values["version"],
        definition_id=values["definition_id"],
        definition=values["definition"],
        definition_version=values["definition_version"],
        spec=load_spec(values["spec"]),
        state=values["state"],
        revision=values["revision"],
        visit=values["visit"],
        status=values["status"],
    )


def locate_instance(session: Session, model_name: str, version: int) -> int | None:
    """The instance of ``model_name`` version ``version``, None if it has not started;
    404 naming what is missing."""
    check_name(model_name, what="model name")
    model_id = session.execute(select(_MODELS.c.id).where(_MODELS.c.name == model_name)).scalar()
    if model_id is None:
        raise NotFound(f"model {model_name!r} not found")
    found = session.execute(
        select(_VERSIONS.c.id, _INSTANCES.c.id)
        .join_from(_VERSIONS, _INSTANCES, _INSTANCES.c.version_id == _VERSIONS.c.id, isouter=True)
        .where(_VERSIONS.c.model_id == model_id, _VERSIONS.c.version == version)
    ).first()
    if found is None:
        raise NotFound(f"model {model_name!r} has no version {version}")
    return None if found[1] is None else int(found[1])


def instance_id_of(session: Session, model_name: str, version: int) -> int:
    """The instance of ``model_name`` version ``version``; 404 naming what is missing.

    Reads only: ``reading.instance_of`` also starts an instance that is still missing.
    """
    found = locate_instance(session, model_name, version)
    if found is None:
        raise NotFound(f"{model_name} version {version} follows no life cycle")
    return found


def lock_instance(session: Session, snap: Snapshot) -> None:
    """Lock the instance row; ``StaleInstance`` when it moved past ``snap``."""
    current = session.execute(
        select(_INSTANCES.c.revision).where(_INSTANCES.c.id == snap.id).with_for_update()
    ).scalar()
    if current != snap.revision:
        raise StaleInstance(
            f"the instance changed since you read it (revision {snap.revision}, now {current}); "
            "read it again and retry"
        )
