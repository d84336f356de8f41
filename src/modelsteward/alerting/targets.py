"""What alerting knows about a deployment: the inventory facts rules scope by and
channels route by.

Routing labels are copied from the inventory when an alert opens (owner, team, risk
tier, environment, model, deployment, severity, rule, and each model tag as
``tag_<name>``), so people route by what the registry knows and a later edit of the
model does not rewrite the history of an alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.store.tables import Deployment, Environment, Model

_LABEL_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class DeploymentFacts:
    deployment: str
    model: str
    environment: str
    risk_tier: str
    owner: str
    team: str
    tags: dict[str, Any] = field(default_factory=dict)

    def as_scope(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "model": self.model,
            "risk_tier": self.risk_tier,
            "tags": self.tags,
        }

    def labels(self, rule: str, severity: str, extra: dict[str, str]) -> dict[str, str]:
        labels = {
            "owner": self.owner,
            "team": self.team,
            "risk_tier": self.risk_tier,
            "environment": self.environment,
            "model": self.model,
            "deployment": self.deployment,
            "severity": severity,
            "rule": rule,
        }
        for key, value in self.tags.items():
            labels[f"tag_{_LABEL_NAME.sub('_', str(key))}"[:64]] = str(value)[:256]
        return {**labels, **extra}


def facts_of(session: Session, deployment: str) -> DeploymentFacts | None:
    row = session.execute(
        select(Model.name, Environment.name, Model.risk_tier, Model.owner, Model.team, Model.tags)
        .join(Deployment, Deployment.model_id == Model.id)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(Deployment.name == deployment)
    ).first()
    if row is None:
        return None
    model, environment, risk_tier, owner, team, tags = row
    return DeploymentFacts(
        deployment, model, environment, risk_tier or "", owner or "", team or "", tags or {}
    )


def target_key(deployment: str, monitor: str, metric: str, column: str, segment: str) -> str:
    """One watched series; ``|`` cannot appear in deployment, monitor or metric names."""
    return f"{deployment}|{monitor}|{metric}|{column}|{segment}"[:600]
