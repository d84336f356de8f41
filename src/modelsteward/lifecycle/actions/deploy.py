"""``deploy``: ask for the version to be served in an environment.

Runs after commit through ``serving.deployments.request_deploy``, the same service
call as ``steward deploy``: it opens a deployment revision that a rollout worker
applies. Params: ``environment``, ``strategy`` (``direct``, ``canary``, ``shadow`` or
``ab``; default ``direct``), ``traffic`` (the challenger's percent for canary/ab) and
``name`` (the deployment's name, for a first deployment). When the latest revision
already routes the version in that role the action does nothing, so a replay after
a restart does not open a second revision.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from modelsteward.lifecycle.actions.registry import Action, ActionContext, ActionResult
from modelsteward.serving.deployments import get_deployment, list_deployments, request_deploy
from modelsteward.serving.plan import Strategy

ROLE_OF = {"direct": "champion", "canary": "challenger", "ab": "challenger", "shadow": "shadow"}
LIVE = ("pending", "running", "applied")


class DeployParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    strategy: Strategy = "direct"
    traffic: Annotated[int, Field(ge=1, le=99)] | None = None
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")] | None = None


def already_requested(context: ActionContext, params: DeployParams) -> int | None:
    """The live revision that already routes the version in the strategy's role, if any."""
    role = ROLE_OF[params.strategy]
    for deployment in list_deployments(context.steward, params.environment):
        if deployment.model != context.model:
            continue
        latest = get_deployment(context.steward, deployment.name, history=1).revisions
        if latest and latest[0].status in LIVE:
            routes = latest[0].routes
            if any(r["version"] == context.version and r["role"] == role for r in routes):
                return latest[0].revision
    return None


def run(context: ActionContext, params: DeployParams) -> ActionResult:
    details = params.model_dump()
    existing = already_requested(context, params)
    if existing is not None:
        return ActionResult(
            f"v{context.version} is already {params.strategy} in {params.environment}",
            {**details, "revision": existing},
        )
    revision = request_deploy(
        context.steward,
        context.actor,
        context.model,
        context.version,
        params.environment,
        strategy=params.strategy,
        traffic=params.traffic,
        name=params.name,
    )
    return ActionResult(
        f"requested {params.strategy} deployment of v{context.version} to {params.environment} "
        f"(revision {revision.revision} of {revision.deployment})",
        {**details, "deployment": revision.deployment, "revision": revision.revision},
    )


ACTION = Action(
    name="deploy",
    description="Request a deployment of the version (as 'steward deploy' does).",
    params_model=DeployParams,
    runs="after_commit",
    run=run,
)
