"""``archive_version``: archive the version, keeping its files and records.

Runs after commit through the registry's ``set_version_status``. An archived version
cannot be deployed or take aliases; nothing is deleted, so its audit trail, files
and history stay. A version holding aliases cannot be archived: with
``release_aliases`` (default true) they are removed first, each move audited.
An alias another service keeps is not released but left to it: a superseded
champion keeps ``champion`` until the successor's production rollout moves it (the
routes, not the life cycle, say who is champion). Archiving an archived version does
nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from modelsteward.lifecycle.actions.registry import Action, ActionContext, ActionResult
from modelsteward.registry.aliases import alias_keeper, remove_alias
from modelsteward.registry.versions import get_version, set_version_status


class ArchiveParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    release_aliases: bool = True


def run(context: ActionContext, params: ArchiveParams) -> ActionResult:
    view = get_version(context.steward, context.model, context.version)
    if view.status == "archived":
        return ActionResult(f"v{context.version} is already archived", {"released": []})
    released: list[str] = []
    left: dict[str, str] = {}
    for alias in view.aliases:
        keeper = alias_keeper(context.steward, context.model, alias)
        if keeper is not None:
            left[alias] = keeper
        elif params.release_aliases:
            remove_alias(context.steward, context.actor, context.model, alias)
            released.append(alias)
    set_version_status(
        context.steward,
        context.actor,
        context.model,
        context.version,
        "archived",
        leave_kept=params.release_aliases,
    )
    notes = [f"released {', '.join(released)}"] if released else []
    notes += [f"{alias} left to {keeper}" for alias, keeper in left.items()]
    note = f" ({'; '.join(notes)})" if notes else ""
    details: dict[str, object] = {"released": released}
    if left:
        details["left"] = left
    return ActionResult(f"archived v{context.version}{note}", details)


ACTION = Action(
    name="archive_version",
    description="Archive the version; records and files are kept.",
    params_model=ArchiveParams,
    runs="after_commit",
    run=run,
)
