"""Which audit records concern a model: each service names its own objects of the model.

Records are keyed by ``(object_type, object_id)``, and most of a model's history is kept
under other objects than the model (its versions, life cycle instances, tasks,
deployments, monitors). The audit trail cannot know every service's tables, so each
service ships a ``ModelSubjects`` through the ``modelsteward.audit_subjects`` entry
point group, and ``model_objects`` asks them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.plugins import NamedRegistry
from modelsteward.store.tables import Model

Objects = Callable[[Session, Model], Mapping[str, Collection[str]]]


@dataclass(frozen=True)
class ModelSubjects:
    """``objects`` gives, for one model, the ids of its objects per ``object_type``."""

    name: str
    objects: Objects


SUBJECTS: NamedRegistry[ModelSubjects] = NamedRegistry(
    "modelsteward.audit_subjects", "audit subject", ModelSubjects
)


def model_objects(session: Session, name: str) -> dict[str, set[str]]:
    """Every object of model ``name`` that audit records are kept under (the model too)."""
    found: dict[str, set[str]] = defaultdict(set)
    found["model"].add(name)
    model = session.scalar(select(Model).where(Model.name == name))
    if model is None:
        return dict(found)
    for subjects in SUBJECTS.available().values():
        for object_type, ids in subjects.objects(session, model).items():
            found[object_type].update(ids)
    return dict(found)
