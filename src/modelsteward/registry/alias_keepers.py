"""Alias keepers: another service's word on where an alias points, so no person moves it.

Most aliases are moved by hand. ``champion`` and ``challenger`` of a model that serves
in production are not: the production deployment's route roles decide them, and the
registry's alias only shows the same (``serving.route_roles`` keeps it in step, in the
rollout's own transaction). The registry imports no serving, so serving declares a
*keeper* through the ``modelsteward.alias_keepers`` entry point group: a function that,
given a model and an alias name, returns who keeps the alias (e.g. "the production
routes of deployment 'churn-production'") or None. A kept alias cannot be set or
removed by hand, and archiving the version it points at leaves it to its keeper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from modelsteward.plugins import NamedRegistry

ENTRY_POINT_GROUP = "modelsteward.alias_keepers"


@dataclass(frozen=True)
class AliasKeeper:
    """``keeps(session, model_id, alias)``: who keeps the alias, in words, or None."""

    name: str
    description: str
    keeps: Callable[[Session, int, str], str | None]


KEEPERS: NamedRegistry[AliasKeeper] = NamedRegistry(ENTRY_POINT_GROUP, "alias keeper", AliasKeeper)


def kept_by(session: Session, model_id: int, alias: str) -> str | None:
    """Who keeps ``alias`` of the model (the first keeper that claims it), or None."""
    for name in KEEPERS.names():
        keeper = KEEPERS.get(name).keeps(session, model_id, alias)
        if keeper is not None:
            return keeper
    return None
