"""A model's life cycle instances (keyed ``name/N`` like its versions) and their tasks."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.audit.subjects import ModelSubjects
from modelsteward.lifecycle.tables import LifecycleInstance, LifecycleTask
from modelsteward.store.tables import Model, ModelVersion


def _instances_and_tasks(session: Session, model: Model) -> Mapping[str, Collection[str]]:
    numbers = session.scalars(
        select(ModelVersion.version)
        .join(LifecycleInstance, LifecycleInstance.version_id == ModelVersion.id)
        .where(LifecycleInstance.model_id == model.id)
    )
    tasks = session.scalars(
        select(LifecycleTask.id)
        .join(LifecycleInstance, LifecycleInstance.id == LifecycleTask.instance_id)
        .where(LifecycleInstance.model_id == model.id)
    )
    return {
        "lifecycle": {f"{model.name}/{n}" for n in numbers},
        "task": {str(t) for t in tasks},
    }


SUBJECTS = ModelSubjects("lifecycle", _instances_and_tasks)
