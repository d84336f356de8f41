"""``move_alias``: point an alias of the model (e.g. ``champion``) at the version.

Runs after commit through the registry's ``set_alias``, which audits the move in its
own transaction. Params: ``alias``. Running it again when the alias already points
at the version does nothing, so a replay after a restart is harmless.

An alias that another service keeps (``champion`` and ``challenger`` once the model
has a production deployment: they follow its route roles) is left alone, and the
history says so: the rollout that gives the version that role moves the alias in its
own transaction, so the timeline never claims a move before it happened.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from modelsteward.errors import NotFound
from modelsteward.lifecycle.actions.registry import Action, ActionContext, ActionResult
from modelsteward.registry.aliases import alias_keeper, set_alias
from modelsteward.registry.versions import get_version


class MoveAliasParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alias: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


def current_target(context: ActionContext, alias: str) -> int | None:
    try:
        return get_version(context.steward, context.model, alias).version
    except NotFound:
        return None


def run(context: ActionContext, params: MoveAliasParams) -> ActionResult:
    previous = current_target(context, params.alias)
    details = {"alias": params.alias, "from": previous, "to": context.version}
    if previous == context.version:
        return ActionResult(f"{params.alias} already points to v{context.version}", details)
    keeper = alias_keeper(context.steward, context.model, params.alias)
    if keeper is not None:
        now = f"v{previous}" if previous is not None else "unset"
        return ActionResult(
            f"{params.alias} follows {keeper} (now {now}); it points at v{context.version} "
            f"once a rollout there makes v{context.version} {params.alias}",
            {**details, "follows": keeper},
        )
    set_alias(context.steward, context.actor, context.model, params.alias, context.version)
    return ActionResult(f"moved {params.alias} to v{context.version}", details)


ACTION = Action(
    name="move_alias",
    description="Point an alias of the model at the version.",
    params_model=MoveAliasParams,
    runs="after_commit",
    run=run,
)
