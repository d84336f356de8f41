"""Default monitors: every deployment is watched from its first request, without set-up.

The subscriber ``monitoring.defaults`` hears ``deployment.requested`` (the event that
creates a deployment and every later change of it) and gives a deployment that has no
monitors yet the defaults below. It is delivered through the outbox, so a deployment
requested just before a crash still gets them. They are ordinary monitors afterwards:
edit, disable or re-threshold them freely.

A deployment whose versions answer with classes (one output column of whole numbers,
booleans or text) also gets ``estimated-performance``: its accuracy estimated from the
logged probabilities between the labels' arrivals (served scikit-learn classifiers log
them, see ``serving.scoring``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber
from modelsteward.monitoring.outcomes import ACTOR
from modelsteward.monitoring.service import create_monitor
from modelsteward.monitoring.tables import Monitor
from modelsteward.store.tables import Deployment, DeploymentRevision, ModelVersion

LAST_HOUR: dict[str, Any] = {"window": {"hours": 1}, "every_minutes": 15}
DEFAULT_MONITORS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("data-quality", {"type": "data_quality", **LAST_HOUR}),
    ("data-drift", {"type": "data_drift", **LAST_HOUR}),
    ("prediction-drift", {"type": "prediction_drift", **LAST_HOUR}),
    ("operations", {"type": "operations", **LAST_HOUR}),
    (
        "multivariate-drift",
        {"type": "multivariate_drift", "window": {"hours": 1}, "every_minutes": 60},
    ),
    ("outliers", {"type": "outliers", "window": {"hours": 1}, "every_minutes": 60}),
    ("performance", {"type": "performance", "window": {"hours": 24 * 7}, "every_minutes": 1440}),
)
FOR_CLASSIFIERS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("estimated-performance", {"type": "estimated_performance", **LAST_HOUR}),
)
CLASS_DTYPES = ("int", "uint", "bool", "<U", "str", "object", "category")


def ensure_defaults(steward: Steward, deployment: str) -> int:
    """Create the default monitors of a deployment that has none; returns how many."""
    with steward.db.read() as session:
        has_any = session.scalar(
            select(Monitor.id)
            .join(Deployment, Deployment.id == Monitor.deployment_id)
            .where(Deployment.name == deployment)
            .limit(1)
        )
        if has_any is not None:
            return 0
        classes = _predicts_classes(session, deployment)
    created = 0
    for name, spec in DEFAULT_MONITORS + (FOR_CLASSIFIERS if classes else ()):
        try:
            create_monitor(steward, ACTOR, deployment, name, spec)
            created += 1
        except Conflict:  # another process created it first
            continue
    return created


def _predicts_classes(session: Session, deployment: str) -> bool:
    """Whether a version of the deployment's newest revision answers with one class column."""
    found = session.execute(
        select(DeploymentRevision.routes, Deployment.model_id)
        .join(Deployment, Deployment.id == DeploymentRevision.deployment_id)
        .where(Deployment.name == deployment)
        .order_by(DeploymentRevision.revision.desc())
        .limit(1)
    ).first()
    if found is None:
        return False
    numbers = [r.get("version") for r in found.routes or [] if isinstance(r, dict)]
    schemas = session.scalars(
        select(ModelVersion.output_schema).where(
            ModelVersion.model_id == found.model_id, ModelVersion.version.in_(numbers)
        )
    )
    for schema in schemas:
        columns = (schema or {}).get("columns") or []
        if len(columns) == 1 and str(columns[0].get("dtype", "")).startswith(CLASS_DTYPES):
            return True
    return False


def on_deployment_requested(steward: Steward, event: DomainEvent) -> None:
    ensure_defaults(steward, event.object_id)


SUBSCRIBER = Subscriber(
    name="monitoring.defaults",
    description="Gives a newly requested deployment the default monitors.",
    events=frozenset({"deployment.requested"}),
    handle=on_deployment_requested,
)
