"""The monitors of a model's deployments (``monitor`` records keyed by monitor id: their
creation, changes, breaches and recoveries)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.audit.subjects import ModelSubjects
from modelsteward.monitoring.tables import Monitor
from modelsteward.store.tables import Deployment, Model


def _monitors(session: Session, model: Model) -> Mapping[str, Collection[str]]:
    ids = session.scalars(
        select(Monitor.id)
        .join(Deployment, Deployment.id == Monitor.deployment_id)
        .where(Deployment.model_id == model.id)
    )
    return {"monitor": {str(i) for i in ids}}


SUBJECTS = ModelSubjects("monitoring", _monitors)
