"""Aliases (``champion``, ``staging``...): one version per alias per model, moved atomically.

Every move is kept in ``alias_history`` so anyone can tell which version held an
alias at any moment, and the move is audited.

An alias that another service keeps (``registry.alias_keepers``: ``champion`` and
``challenger`` follow a production deployment's route roles) is not moved by hand:
``set_alias`` and ``remove_alias`` answer 409 naming the keeper, and the keeper moves it
with ``follow_roles`` inside its own change, so the move and its cause share one
transaction and one audit record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Change, Steward
from modelsteward.errors import Conflict, NotFound
from modelsteward.identity.users import Principal
from modelsteward.names import check_alias
from modelsteward.registry.alias_keepers import kept_by
from modelsteward.registry.models import find_model
from modelsteward.registry.versions import resolve_version
from modelsteward.registry.views import AliasChangeView
from modelsteward.store.tables import Alias, AliasChange, Model, ModelVersion


def _number(session: Session, version_id: int) -> int:
    number = session.scalar(select(ModelVersion.version).where(ModelVersion.id == version_id))
    assert number is not None  # the foreign key guarantees the row
    return number


def _refuse_kept(session: Session, model: Model, alias: str) -> None:
    keeper = kept_by(session, model.id, alias)
    if keeper is not None:
        raise Conflict(
            f"alias {alias!r} of {model.name} follows {keeper}; it cannot be moved by hand "
            "(deploy, change the traffic or roll back there instead)"
        )


def alias_keeper(steward: Steward, model_name: str, alias: str) -> str | None:
    """Who keeps ``alias`` of the model, in words; None when people move it by hand."""
    with steward.db.read() as session:
        return kept_by(session, find_model(session, model_name).id, check_alias(alias))


def follow_roles(change: Change, model_id: int, targets: dict[str, int | None]) -> None:
    """Point each alias of ``targets`` at its version number, or remove it (None), inside
    the keeper's ``change``; each move is kept in the history and audited there."""
    session = change.session
    model = session.get(Model, model_id, with_for_update=True)
    assert model is not None  # the keeper's own rows reference the model
    for alias, number in targets.items():
        current = session.scalar(
            select(Alias).where(Alias.model_id == model.id, Alias.alias == alias)
        )
        previous = _number(session, current.version_id) if current else None
        if previous == number:
            continue
        if number is None:
            assert current is not None
            session.delete(current)
        else:
            version_id = session.scalar(
                select(ModelVersion.id).where(
                    ModelVersion.model_id == model.id, ModelVersion.version == number
                )
            )
            if version_id is None:
                raise NotFound(f"model {model.name!r} has no version {number}")
            if current is None:
                session.add(Alias(model_id=model.id, alias=alias, version_id=version_id))
            else:
                current.version_id = version_id
                current.updated_at = datetime.now(UTC)
        session.add(
            AliasChange(
                model_id=model.id,
                alias=alias,
                from_version=previous,
                to_version=number,
                changed_by=change.actor,
            )
        )
        session.flush()
        before = {"alias": alias, "version": previous}
        if number is None:
            change.record(
                "alias.removed", "model", model.name, before=before, after=None, payload=before
            )
        else:
            after = {"alias": alias, "version": number}
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
        _refuse_kept(session, model, alias)
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
        _refuse_kept(session, model, alias)
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
