"""Aliases (``champion``, ``staging``...): one version per alias per model, moved atomically.

Every move is kept in ``alias_history`` so anyone can tell which version held an
alias at any moment, and the move is audited.

``champion`` and ``challenger`` have one truth once a model serves in production: the
production deployment's route roles. When a revision is applied there, serving calls
``follow_routes`` in the same transaction, so the aliases point where the roles do
(and ``challenger`` goes when no version holds that role). Such an alias is marked
with the deployment it follows, and moving it by hand is refused with what to do
instead: the model page, the deployment page, the CLI and the API cannot disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict, NotFound
from modelsteward.identity.users import Principal
from modelsteward.names import check_alias
from modelsteward.registry.models import find_model
from modelsteward.registry.versions import resolve_version
from modelsteward.registry.views import AliasChangeView
from modelsteward.store.tables import Alias, AliasChange, Model, ModelVersion

ROUTE_ALIASES = ("champion", "challenger")
"""Aliases named like the route roles: a production deployment decides them."""


def _number(session: Session, version_id: int) -> int:
    number = session.scalar(select(ModelVersion.version).where(ModelVersion.id == version_id))
    assert number is not None  # the foreign key guarantees the row
    return number


def _refuse_followed(current: Alias | None, model_name: str) -> None:
    if current is not None and current.follows:
        raise Conflict(
            f"alias {current.alias!r} of {model_name} follows the routes of deployment "
            f"{current.follows!r}; deploy, change its traffic or roll it back instead"
        )


def alias_follows(steward: Steward, model_name: str, alias: str) -> str | None:
    """The deployment whose routes ``alias`` follows, or None when it is moved by hand."""
    with steward.db.read() as session:
        model = find_model(session, model_name)
        return session.scalar(
            select(Alias.follows).where(Alias.model_id == model.id, Alias.alias == alias)
        )


def follow_routes(
    change: Change, model_id: int, deployment: str, roles: dict[str, int | None]
) -> None:
    """Point ``champion`` and ``challenger`` at the versions ``roles`` names (None: no
    version holds the role, the alias goes), inside the deployment's own change."""
    session = change.session
    model = session.get(Model, model_id, with_for_update=True)
    assert model is not None  # the deployment's foreign key guarantees the row
    for alias in ROUTE_ALIASES:
        target = roles.get(alias)
        current = session.scalar(
            select(Alias).where(Alias.model_id == model.id, Alias.alias == alias)
        )
        previous = _number(session, current.version_id) if current else None
        if target is None:
            if current is not None:
                session.delete(current)
                _record(change, model, alias, previous, None)
            continue
        if current is None:
            version_id = _version_id(session, model.id, target)
            session.add(Alias(model_id=model.id, alias=alias, version_id=version_id))
            session.flush()
            current = session.scalar(
                select(Alias).where(Alias.model_id == model.id, Alias.alias == alias)
            )
            assert current is not None
        elif previous != target:
            current.version_id = _version_id(session, model.id, target)
            current.updated_at = datetime.now(UTC)
        current.follows = deployment
        if previous != target:
            _record(change, model, alias, previous, target)


def _version_id(session: Session, model_id: int, number: int) -> int:
    found = session.scalar(
        select(ModelVersion.id).where(
            ModelVersion.model_id == model_id, ModelVersion.version == number
        )
    )
    if found is None:
        raise NotFound(f"model has no version {number}")
    return found


def _record(
    change: Change, model: Model, alias: str, previous: int | None, target: int | None
) -> None:
    change.session.add(
        AliasChange(
            model_id=model.id,
            alias=alias,
            from_version=previous,
            to_version=target,
            changed_by=change.actor,
        )
    )
    change.session.flush()
    before = {"alias": alias, "version": previous}
    if target is None:
        change.record(
            "alias.removed",
            "model",
            model.name,
            before=before,
            after=None,
            payload={"alias": alias, "version": previous},
        )
    else:
        after = {"alias": alias, "version": target}
        change.record("alias.moved", "model", model.name, before=before, after=after)


def set_alias(
    steward: Steward, actor: Principal, model_name: str, alias: str, ref: str | int
) -> AliasChangeView:
    check_alias(alias)
    with steward.change(actor.name) as change:
        session = change.session
        model = find_model(session, model_name, for_update=True)
        target = resolve_version(session, model, ref)
        if target.status != "active":
            raise Conflict(f"version {target.version} is archived; restore it first")
        current = session.scalar(
            select(Alias).where(Alias.model_id == model.id, Alias.alias == alias)
        )
        previous = _number(session, current.version_id) if current else None
        if previous == target.version:
            raise Conflict(f"alias {alias!r} already points to version {target.version}")
        _refuse_followed(current, model_name)
        if current is None:
            session.add(Alias(model_id=model.id, alias=alias, version_id=target.id))
        else:
            current.version_id = target.id
            current.updated_at = datetime.now(UTC)
        record = AliasChange(
            model_id=model.id,
            alias=alias,
            from_version=previous,
            to_version=target.version,
            changed_by=actor.name,
        )
        session.add(record)
        session.flush()
        change.record(
            "alias.moved",
            "model",
            model_name,
            before={"alias": alias, "version": previous},
            after={"alias": alias, "version": target.version},
        )
        return AliasChangeView.of(record)


def remove_alias(
    steward: Steward, actor: Principal, model_name: str, alias: str
) -> AliasChangeView:
    check_alias(alias)
    with steward.change(actor.name) as change:
        session = change.session
        model = find_model(session, model_name, for_update=True)
        current = session.scalar(
            select(Alias).where(Alias.model_id == model.id, Alias.alias == alias)
        )
        if current is None:
            raise NotFound(f"model {model_name!r} has no alias {alias!r}")
        _refuse_followed(current, model_name)
        previous = _number(session, current.version_id)
        session.delete(current)
        record = AliasChange(
            model_id=model.id,
            alias=alias,
            from_version=previous,
            to_version=None,
            changed_by=actor.name,
        )
        session.add(record)
        session.flush()
        change.record(
            "alias.removed",
            "model",
            model_name,
            before={"alias": alias, "version": previous},
            after=None,
            payload={"alias": alias, "version": previous},
        )
        return AliasChangeView.of(record)


def alias_history(
    steward: Steward, model_name: str, alias: str | None = None
) -> list[AliasChangeView]:
    with steward.db.read() as session:
        model = find_model(session, model_name)
        query = select(AliasChange).where(AliasChange.model_id == model.id)
        if alias:
            query = query.where(AliasChange.alias == check_alias(alias))
        return [AliasChangeView.of(c) for c in session.scalars(query.order_by(AliasChange.id))]
