"""A model's versions in the audit trail (``version`` records keyed ``name/N``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.audit.subjects import ModelSubjects
from modelsteward.store.tables import Model, ModelVersion


def _versions(session: Session, model: Model) -> Mapping[str, Collection[str]]:
    numbers = session.scalars(select(ModelVersion.version).where(ModelVersion.model_id == model.id))
    return {"version": {f"{model.name}/{n}" for n in numbers}}


SUBJECTS = ModelSubjects("registry", _versions)
