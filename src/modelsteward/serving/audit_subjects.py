"""A model's deployments in the audit trail (``deployment`` records keyed by name)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.audit.subjects import ModelSubjects
from modelsteward.store.tables import Deployment, Model


def _deployments(session: Session, model: Model) -> Mapping[str, Collection[str]]:
    names = session.scalars(select(Deployment.name).where(Deployment.model_id == model.id))
    return {"deployment": set(names)}


SUBJECTS = ModelSubjects("serving", _deployments)
