"""Champion and challenger have one truth: the production deployment's route roles.

Once a model has a deployment in ``production`` (serving, or its first revision
rolling out), its registry aliases ``champion`` and ``challenger`` only show what the
routes say: ``champion`` is the version holding the champion route, ``challenger`` the
version holding the challenger route (canary or A/B), or failing that the newest
shadow; an alias whose role no version holds is removed. ``finish_revision`` moves
them with ``registry.aliases.follow_roles`` in the transaction that applies the
revision, audited as the rollout's own ``alias.moved`` / ``alias.removed``; there is no
moment when the deployment page and the model page disagree.

The registry does not import serving, so serving tells it which aliases it keeps
through the ``modelsteward.alias_keepers`` entry point (``KEEPER``): a kept alias is
refused by hand (409 naming the deployment), a life cycle's ``move_alias`` leaves it to
the rollout, and archiving a superseded champion leaves its alias for the successor's
rollout to move. Other environments' routes and other aliases stay by hand.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Change
from modelsteward.registry.alias_keepers import AliasKeeper
from modelsteward.registry.aliases import follow_roles
from modelsteward.serving.plan import Route
from modelsteward.store.tables import Deployment, DeploymentRevision, Environment

PRODUCTION = "production"
"""The environment whose route roles the registry's champion and challenger follow."""
ROUTE_ALIASES = ("champion", "challenger")
LIVE = ("pending", "running")


def roles_of(routes: list[Route]) -> dict[str, int | None]:
    """Which version each route alias names in ``routes`` (None: no version holds it)."""
    champion = next((r["version"] for r in routes if r["role"] == "champion"), None)
    challenger = next((r["version"] for r in routes if r["role"] == "challenger"), None)
    if challenger is None:
        shadows = [r["version"] for r in routes if r["role"] == "shadow"]
        challenger = shadows[-1] if shadows else None
    return {"champion": champion, "challenger": challenger}


def follow(change: Change, deployment: Deployment, environment: str, routes: list[Route]) -> None:
    """Inside the change that applies ``routes``: move the model's route aliases to them."""
    if environment == PRODUCTION:
        follow_roles(change, deployment.model_id, roles_of(routes))


def _keeps(session: Session, model_id: int, alias: str) -> str | None:
    if alias not in ROUTE_ALIASES:
        return None
    deployment = session.scalar(
        select(Deployment)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(Deployment.model_id == model_id, Environment.name == PRODUCTION)
    )
    if deployment is None:
        return None
    rolling_out = session.scalar(
        select(DeploymentRevision.id).where(
            DeploymentRevision.deployment_id == deployment.id,
            DeploymentRevision.status.in_(LIVE),
        )
    )
    if not deployment.applied_revision and rolling_out is None:
        return None  # its first revision failed: nothing serves, nothing decides
    return f"the production routes of deployment {deployment.name!r}"


KEEPER = AliasKeeper(
    name="serving.production-routes",
    description="champion and challenger follow the production deployment's route roles",
    keeps=_keeps,
)
