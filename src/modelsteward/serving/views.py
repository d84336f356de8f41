"""What the deployment service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from modelsteward.store.tables import DeploymentRevision, DeploymentStep, as_utc


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


class StepView(BaseModel):
    revision: int
    step: str
    status: str
    detail: str
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: DeploymentStep) -> StepView:
        return cls(
            revision=row.revision,
            step=row.step,
            status=row.status,
            detail=row.detail,
            started_at=_utc(row.started_at),
            finished_at=_utc(row.finished_at),
        )


class RevisionView(BaseModel):
    deployment: str
    revision: int
    strategy: str
    routes: list[dict[str, Any]]
    reason: str
    status: str
    created_by: str
    created_at: datetime | None
    finished_at: datetime | None
    steps: list[StepView] = []

    @classmethod
    def of(
        cls, name: str, row: DeploymentRevision, steps: list[StepView] | None = None
    ) -> RevisionView:
        return cls(
            deployment=name,
            revision=row.revision,
            strategy=row.strategy,
            routes=row.routes,
            reason=row.reason,
            status=row.status,
            created_by=row.created_by,
            created_at=_utc(row.created_at),
            finished_at=_utc(row.finished_at),
            steps=steps or [],
        )


class Unadmitted(BaseModel):
    """A route serving a version that a deployment guard would refuse there now (it was
    deployed with an override, or before the policy): pages show it as a warning."""

    version: int
    role: str
    headline: str
    message: str


class DeploymentView(BaseModel):
    name: str
    model: str
    environment: str
    status: str
    strategy: str
    applied_revision: int
    routes: list[dict[str, Any]]
    revisions: list[RevisionView]
    created_by: str
    updated_at: datetime | None
    unadmitted: list[Unadmitted] = []


class ServedRoutes(BaseModel):
    """What one serving process needs to know to route a deployment's requests."""

    deployment: str
    model: str
    revision: int
    routes: list[dict[str, Any]]
