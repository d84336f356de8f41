"""Deployments: request a change of routes, let a rollout worker apply it, read history.

A change is a new *revision* (pending). A rollout worker claims it with a
compare-and-set, runs the steps, and applies it or marks it failed; the applied
revision keeps serving until then. Rollback is a new revision with an older state.
Applying a revision in production moves the model's ``champion`` and ``challenger``
aliases to its route roles in the same transaction (``serving.route_roles``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound, UntrustedArtifact
from modelsteward.identity.users import Principal
from modelsteward.names import check_name
from modelsteward.registry.flavors.base import get_flavor
from modelsteward.registry.models import find_model
from modelsteward.registry.versions import resolve_version
from modelsteward.serving.admission import admit, override_reason, unadmitted
from modelsteward.serving.plan import Route, plan_routes, retarget_traffic, strategy_of
from modelsteward.serving.route_roles import follow
from modelsteward.serving.views import DeploymentView, RevisionView, ServedRoutes, StepView
from modelsteward.store.tables import (
    Deployment,
    DeploymentRevision,
    DeploymentStep,
    Environment,
    Model,
    ModelVersion,
)

OPEN = ("pending", "running")


def _deployment(session: Session, name: str, *, for_update: bool = False) -> Deployment:
    check_name(name, what="deployment name")
    query = select(Deployment).where(Deployment.name == name)
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"deployment {name!r} not found")
    return row


def _environment(change: Change, name: str) -> Environment:
    check_name(name, what="environment name")
    env = change.session.scalar(select(Environment).where(Environment.name == name))
    if env is None:
        env = Environment(name=name, created_by=change.actor)
        change.session.add(env)
        change.session.flush()
        change.record("environment.created", "environment", name, after={"name": name})
    return env


def _applied_routes(session: Session, deployment: Deployment) -> list[Route]:
    if deployment.applied_revision == 0:
        return []
    row = session.scalar(
        select(DeploymentRevision).where(
            DeploymentRevision.deployment_id == deployment.id,
            DeploymentRevision.revision == deployment.applied_revision,
        )
    )
    return list(row.routes) if row else []


def _check_servable(session: Session, model: Model, version: ModelVersion) -> None:
    if version.status != "active":
        raise Conflict(f"{model.name} v{version.version} is archived")
    if get_flavor(version.flavor).needs_trust and not (version.trust or {}).get("granted_by"):
        raise UntrustedArtifact(
            f"{model.name} v{version.version} ({version.flavor}) has no granted trust decision; "
            "it cannot be deployed"
        )


def _open_revision(
    change: Change,
    deployment: Deployment,
    routes: list[Route],
    reason: str,
    override: str | None = None,
) -> RevisionView:
    """Admit the routes (``serving.admission``), then write the pending revision."""
    applied = _applied_routes(change.session, deployment)
    model = change.session.get(Model, deployment.model_id)
    env = change.session.get(Environment, deployment.environment_id)
    assert model is not None and env is not None
    overridden = admit(
        change,
        deployment=deployment.name,
        environment=env.name,
        model=model,
        before=applied,
        after=routes,
        override=override,
    )
    if overridden:
        reason = f"{reason}; override: {override}"
    busy = change.session.scalar(
        select(DeploymentRevision.revision).where(
            DeploymentRevision.deployment_id == deployment.id, DeploymentRevision.status.in_(OPEN)
        )
    )
    if busy is not None:
        raise Conflict(f"revision {busy} of {deployment.name!r} is still rolling out; wait for it")
    deployment.last_revision += 1
    deployment.updated_at = datetime.now(UTC)
    row = DeploymentRevision(
        deployment_id=deployment.id,
        revision=deployment.last_revision,
        strategy=strategy_of(routes),
        routes=routes,
        reason=reason,
        created_by=change.actor,
    )
    change.session.add(row)
    change.session.flush()
    change.record(
        "deployment.requested",
        "deployment",
        deployment.name,
        before={"routes": applied},
        after={"revision": row.revision, "routes": routes, "reason": reason},
    )
    return RevisionView.of(deployment.name, row)


def request_deploy(
    steward: Steward,
    actor: Principal,
    model_name: str,
    ref: str | int,
    environment: str,
    *,
    strategy: str = "direct",
    traffic: int | None = None,
    name: str | None = None,
    override: str | None = None,
) -> RevisionView:
    """Ask for ``model:version`` to be served in ``environment`` with ``strategy``.

    Refused (409) when a deployment guard refuses the version there, unless ``override``
    gives a reason and ``actor`` may override (see ``serving.admission``).
    """
    override = override_reason(actor, override)
    with steward.change(actor.name) as change:
        session = change.session
        model = find_model(session, model_name)
        version = resolve_version(session, model, ref)
        _check_servable(session, model, version)
        env = _environment(change, environment)
        deployment = session.scalar(
            select(Deployment)
            .where(Deployment.environment_id == env.id, Deployment.model_id == model.id)
            .with_for_update()
        )
        if deployment is None:
            deployment_name = check_name(name or f"{model.name}-{env.name}", what="deployment name")
            if session.scalar(select(Deployment.id).where(Deployment.name == deployment_name)):
                raise Conflict(f"deployment name {deployment_name!r} is taken")
            deployment = Deployment(
                name=deployment_name,
                environment_id=env.id,
                model_id=model.id,
                created_by=actor.name,
            )
            session.add(deployment)
            session.flush()
        elif name and name != deployment.name:
            raise InvalidInput(
                f"{model.name} is already deployed in {env.name} as {deployment.name!r}"
            )
        routes = plan_routes(
            _applied_routes(session, deployment), version.version, strategy, traffic
        )
        reason = f"deploy v{version.version} ({strategy})"
        return _open_revision(change, deployment, routes, reason, override)


def request_traffic(
    steward: Steward, actor: Principal, name: str, traffic: int, override: str | None = None
) -> RevisionView:
    override = override_reason(actor, override)
    with steward.change(actor.name) as change:
        deployment = _deployment(change.session, name, for_update=True)
        routes = retarget_traffic(_applied_routes(change.session, deployment), traffic)
        return _open_revision(
            change, deployment, routes, f"challenger traffic {traffic}%", override
        )


def request_rollback(
    steward: Steward,
    actor: Principal,
    name: str,
    to_revision: int | None = None,
    override: str | None = None,
) -> RevisionView:
    """Return to an earlier applied state: the one before the current, or ``to_revision``."""
    override = override_reason(actor, override)
    with steward.change(actor.name) as change:
        deployment = _deployment(change.session, name, for_update=True)
        query = select(DeploymentRevision).where(
            DeploymentRevision.deployment_id == deployment.id,
            DeploymentRevision.status.in_(("applied", "superseded")),
        )
        if to_revision is not None:
            query = query.where(DeploymentRevision.revision == to_revision)
        else:
            query = query.where(DeploymentRevision.revision < deployment.applied_revision)
        target = change.session.scalar(query.order_by(DeploymentRevision.revision.desc()).limit(1))
        if target is None:
            raise NotFound(f"{name!r} has no earlier applied revision to roll back to")
        if target.revision == deployment.applied_revision:
            raise Conflict(f"revision {target.revision} is already serving")
        reason = f"rollback to revision {target.revision}"
        return _open_revision(change, deployment, list(target.routes), reason, override)


def served_routes(steward: Steward) -> list[ServedRoutes]:
    """Every deployment's applied routes, for the serving runtime to follow."""
    with steward.db.read() as session:
        rows = session.execute(
            select(
                Deployment.name, Model.name, Deployment.applied_revision, DeploymentRevision.routes
            )
            .join(Model, Model.id == Deployment.model_id)
            .join(
                DeploymentRevision,
                (DeploymentRevision.deployment_id == Deployment.id)
                & (DeploymentRevision.revision == Deployment.applied_revision),
            )
        ).all()
    return [
        ServedRoutes(deployment=d, model=m, revision=r, routes=routes) for d, m, r, routes in rows
    ]


def list_deployments(steward: Steward, environment: str | None = None) -> list[DeploymentView]:
    with steward.db.read() as session:
        query = select(Deployment.name).order_by(Deployment.name)
        if environment:
            query = query.join(Environment).where(Environment.name == environment)
        names = list(session.scalars(query))
    return [get_deployment(steward, name, history=5) for name in names]


def get_deployment(steward: Steward, name: str, history: int = 50) -> DeploymentView:
    with steward.db.read() as session:
        deployment = _deployment(session, name)
        model = session.get(Model, deployment.model_id)
        env = session.get(Environment, deployment.environment_id)
        revisions = session.scalars(
            select(DeploymentRevision)
            .where(DeploymentRevision.deployment_id == deployment.id)
            .order_by(DeploymentRevision.revision.desc())
            .limit(history)
        ).all()
        steps: dict[int, list[StepView]] = {}
        for step in session.scalars(
            select(DeploymentStep)
            .where(DeploymentStep.deployment_id == deployment.id)
            .order_by(DeploymentStep.id)
        ):
            steps.setdefault(step.revision, []).append(StepView.of(step))
        routes = _applied_routes(session, deployment)
        assert model is not None and env is not None
        return DeploymentView(
            name=deployment.name,
            model=model.name,
            environment=env.name,
            status=deployment.status,
            strategy=strategy_of(routes) if routes else "none",
            applied_revision=deployment.applied_revision,
            routes=routes,
            revisions=[RevisionView.of(name, r, steps.get(r.revision, [])) for r in revisions],
            created_by=deployment.created_by,
            updated_at=deployment.updated_at,
            unadmitted=unadmitted(session, model, env.name, routes),
        )


def claim_next(steward: Steward, worker: str) -> tuple[str, str, RevisionView] | None:
    """Take the oldest pending revision, at most once across workers (compare-and-set)."""
    with steward.db.read() as session:
        candidates = session.execute(
            select(DeploymentRevision.id, Deployment.name, Model.name)
            .join(Deployment, Deployment.id == DeploymentRevision.deployment_id)
            .join(Model, Model.id == Deployment.model_id)
            .where(DeploymentRevision.status == "pending")
            .order_by(DeploymentRevision.id)
            .limit(5)
        ).all()
    for revision_id, deployment_name, model_name in candidates:
        with steward.db.write() as session:
            claimed = session.execute(
                update(DeploymentRevision)
                .where(DeploymentRevision.id == revision_id, DeploymentRevision.status == "pending")
                .values(status="running", claimed_by=worker[:128])
                .returning(DeploymentRevision.id)
            ).first()
            if claimed is not None:
                row = session.get(DeploymentRevision, revision_id)
                assert row is not None
                return deployment_name, model_name, RevisionView.of(deployment_name, row)
    return None


@dataclass(frozen=True)
class StepRecord:
    """One rollout step as it is written to the revision's history."""

    step: str
    status: str
    detail: str
    started_at: datetime


def _add_step(session: Session, deployment_id: int, revision: int, record: StepRecord) -> None:
    session.add(
        DeploymentStep(
            deployment_id=deployment_id,
            revision=revision,
            step=record.step,
            status=record.status,
            detail=record.detail[:2000],
            started_at=record.started_at,
            finished_at=datetime.now(UTC),
        )
    )


def record_step(steward: Steward, deployment: str, revision: int, record: StepRecord) -> None:
    with steward.db.write() as session:
        _add_step(session, _deployment(session, deployment).id, revision, record)


def finish_revision(
    steward: Steward,
    actor: str,
    deployment: str,
    revision: int,
    ok: bool,
    detail: str = "",
    *,
    last_step: StepRecord | None = None,
) -> None:
    """Apply a rolled-out revision, or record that it failed and the old state stays.

    ``last_step`` (the switch, or the rollback) is written in the same transaction as
    the status, so whoever sees the revision finished also sees its every step.
    """
    with steward.change(actor) as change:
        row = _deployment(change.session, deployment, for_update=True)
        if last_step is not None:
            _add_step(change.session, row.id, revision, last_step)
        target = change.session.scalar(
            select(DeploymentRevision).where(
                DeploymentRevision.deployment_id == row.id, DeploymentRevision.revision == revision
            )
        )
        assert target is not None
        target.finished_at = datetime.now(UTC)
        before = {"revision": row.applied_revision, "routes": _applied_routes(change.session, row)}
        if ok:
            change.session.execute(
                update(DeploymentRevision)
                .where(
                    DeploymentRevision.deployment_id == row.id,
                    DeploymentRevision.status == "applied",
                )
                .values(status="superseded")
            )
            target.status = "applied"
            row.applied_revision = revision
            row.status = "active"
            change.record(
                "deployment.changed",
                "deployment",
                deployment,
                before=before,
                after={"revision": revision, "routes": target.routes},
            )
            env = change.session.get(Environment, row.environment_id)
            assert env is not None  # the deployment's foreign key guarantees the row
            follow(change, row, env.name, list(target.routes))
        else:
            target.status = "rolled_back" if row.applied_revision else "failed"
            if not row.applied_revision:
                row.status = "failed"
            change.record(
                "deployment.failed",
                "deployment",
                deployment,
                before=before,
                after={"revision": revision, "status": target.status, "detail": detail[:500]},
            )
        row.updated_at = datetime.now(UTC)
