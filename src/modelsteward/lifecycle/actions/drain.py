"""``drain``: take live traffic away from the version before it retires.

Runs after commit. Where the version is a deployment's challenger (canary or A/B)
its share is set to 0 through ``serving.deployments.request_traffic``. Where it is
the champion the action fails: the serving service has no "undeploy", and taking a
model's only serving version away must be a person's decision (deploy a successor
first). Shadow routes receive only mirrored copies, no user traffic, and are left.
Draining a version that serves nowhere does nothing.
"""

from __future__ import annotations

from modelsteward.errors import Conflict
from modelsteward.lifecycle.actions.registry import Action, ActionContext, ActionResult, NoParams
from modelsteward.serving.deployments import list_deployments, request_traffic


def run(context: ActionContext, params: NoParams) -> ActionResult:
    drained: list[str] = []
    for deployment in list_deployments(context.steward):
        if deployment.model != context.model:
            continue
        mine = [r for r in deployment.routes if r["version"] == context.version]
        if any(r["role"] == "champion" for r in mine):
            raise Conflict(
                f"v{context.version} is the champion of {deployment.name!r}; deploy a successor "
                "before draining it"
            )
        if any(r["role"] == "challenger" and r["weight"] > 0 for r in mine):
            request_traffic(context.steward, context.actor, deployment.name, 0)
            drained.append(deployment.name)
    if not drained:
        return ActionResult(f"v{context.version} takes no live traffic", {"drained": []})
    return ActionResult(f"drained v{context.version} in {', '.join(drained)}", {"drained": drained})


ACTION = Action(
    name="drain",
    description="Set the version's challenger traffic to 0 in every deployment.",
    params_model=NoParams,
    runs="after_commit",
    run=run,
)
