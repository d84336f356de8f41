"""Assignment rules: which life cycle a model's new versions follow.

Rules are tried by ascending priority; the first whose criteria (risk tier, team, one
tag ``key=value``, looked up in the version's tags, then the model's) all match
wins, and a rule with no criteria matches every model. A version tag lets one model's
retrained candidates follow ``champion-challenger`` while its first version followed
``standard``. The newest version of the named life cycle is pinned when an instance
starts, so later edits to a definition never move a running instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput
from modelsteward.identity.users import Principal
from modelsteward.lifecycle.spec import LifecycleSpec
from modelsteward.lifecycle.store import load_spec
from modelsteward.lifecycle.tables import LifecycleDefinition, LifecycleRule
from modelsteward.lifecycle.views import RuleSpec, RuleView
from modelsteward.store.tables import as_utc

MAX_RULES = 500
_RULES = cast(Table, LifecycleRule.__table__)
_DEFINITIONS = cast(Table, LifecycleDefinition.__table__)
_CRITERIA = select(
    _RULES.c.risk_tier, _RULES.c.team, _RULES.c.tag_key, _RULES.c.tag_value, _RULES.c.definition
).order_by(_RULES.c.priority)
_NEWEST = (
    select(_DEFINITIONS.c.id, _DEFINITIONS.c.version, _DEFINITIONS.c.spec)
    .where(_DEFINITIONS.c.name == bindparam("name"))
    .order_by(_DEFINITIONS.c.version.desc())
    .limit(1)
)


@dataclass(frozen=True)
class ModelFacts:
    """What rules match on: a model's risk tier, team and tags."""

    id: int
    risk_tier: str
    team: str
    tags: dict[str, Any] = field(default_factory=dict)


def _view(row: LifecycleRule) -> RuleView:
    tag = f"{row.tag_key}={row.tag_value}" if row.tag_key is not None else None
    return RuleView(
        priority=row.priority,
        definition=row.definition,
        risk_tier=row.risk_tier,
        team=row.team,
        tag=tag,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
    )


def _ordered(session: Session) -> list[LifecycleRule]:
    return list(session.scalars(select(LifecycleRule).order_by(LifecycleRule.priority)))


def list_rules(steward: Steward) -> list[RuleView]:
    with steward.db.read() as session:
        return [_view(r) for r in _ordered(session)]


def put_rules(steward: Steward, actor: Principal, rules: list[RuleSpec]) -> list[RuleView]:
    """Replace every rule at once; each must name a stored life cycle, priorities unique."""
    if len(rules) > MAX_RULES:
        raise InvalidInput(f"at most {MAX_RULES} assignment rules")
    priorities = [r.priority for r in rules]
    if len(set(priorities)) != len(priorities):
        twice = sorted({p for p in priorities if priorities.count(p) > 1})
        raise InvalidInput(f"two rules share priority {twice[0]}; priorities must be unique")
    try:
        return _replace_rules(steward, actor, rules)
    except IntegrityError:
        raise Conflict("the rules were replaced at the same moment; read them and retry") from None


def _replace_rules(steward: Steward, actor: Principal, rules: list[RuleSpec]) -> list[RuleView]:
    with steward.change(actor.name) as change:
        session = change.session
        known = set(session.scalars(select(LifecycleDefinition.name).distinct()))
        unknown = sorted({r.definition for r in rules} - known)
        if unknown:
            raise InvalidInput(
                f"rule names unknown life cycle {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        before = [_view(r).model_dump(mode="json") for r in _ordered(session)]
        session.execute(delete(LifecycleRule))
        for rule in rules:
            pair = rule.tag_pair
            session.add(
                LifecycleRule(
                    priority=rule.priority,
                    definition=rule.definition,
                    risk_tier=rule.risk_tier,
                    team=rule.team,
                    tag_key=pair[0] if pair else None,
                    tag_value=pair[1] if pair else None,
                    created_by=actor.name,
                )
            )
        session.flush()
        after = [_view(r) for r in _ordered(session)]
        change.record(
            "lifecycle.rules_set",
            "lifecycle_rules",
            "all",
            before={"rules": before},
            after={"rules": [r.model_dump(mode="json") for r in after]},
        )
    return after


class Criteria(Protocol):
    """What a rule matches on (a stored rule, or a row of ``_CRITERIA``)."""

    risk_tier: str | None
    team: str | None
    tag_key: str | None
    tag_value: str | None


@dataclass(frozen=True)
class Assigned:
    """The life cycle version a new instance pins: the newest one its rule names."""

    id: int
    name: str
    version: int
    spec: LifecycleSpec


def matches(rule: Criteria, model: ModelFacts) -> bool:
    if rule.risk_tier is not None and rule.risk_tier != model.risk_tier:
        return False
    if rule.team is not None and rule.team != model.team:
        return False
    if rule.tag_key is None:
        return True
    value = model.tags.get(rule.tag_key)
    return value is not None and str(value) == rule.tag_value


def pick_definition(conn: Connection, model: ModelFacts) -> Assigned | None:
    """The newest version of the life cycle the first matching rule names, if any.

    Runs on every instance start, so it reads plain rows: the rules' criteria, then
    the one definition chosen (its spec parsed once per process, see ``load_spec``).
    """
    for rule in conn.execute(_CRITERIA):
        if matches(rule, model):
            found = conn.execute(_NEWEST, {"name": rule.definition}).first()
            if found is None:
                return None
            return Assigned(found.id, rule.definition, found.version, load_spec(found.spec))
    return None
