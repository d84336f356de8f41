"""Inventory entries: create, read, search, update and archive models.

A model is never deleted: archiving hides it from default listings and keeps its
versions, aliases and audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.governance.identity import Principal
from modelsteward.registry.names import check_name
from modelsteward.registry.specs import ModelSpec, ModelUpdate
from modelsteward.registry.views import ModelView, Page
from modelsteward.store.tables import Alias, Model, ModelVersion

MAX_PAGE = 500
_FIELDS = ("description", "owner", "team", "use_case", "risk_tier", "tags")


def find_model(session: Session, name: str, *, for_update: bool = False) -> Model:
    check_name(name, what="model name")
    query = select(Model).where(Model.name == name)
    if for_update:
        query = query.with_for_update()
    model = session.scalar(query)
    if model is None:
        raise NotFound(f"model {name!r} not found")
    return model


def aliases_of(session: Session, model_ids: list[int]) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = {mid: {} for mid in model_ids}
    if not model_ids:
        return result
    rows = session.execute(
        select(Alias.model_id, Alias.alias, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == Alias.version_id)
        .where(Alias.model_id.in_(model_ids))
    )
    for model_id, alias, version in rows:
        result[model_id][alias] = version
    return result


def _snapshot(model: Model) -> dict[str, object]:
    return {"name": model.name, "status": model.status, **{f: getattr(model, f) for f in _FIELDS}}


def create_model(steward: Steward, actor: Principal, spec: ModelSpec) -> ModelView:
    try:
        with steward.change(actor.name) as change:
            if change.session.scalar(select(Model.id).where(Model.name == spec.name)) is not None:
                raise Conflict(f"model {spec.name!r} already exists")
            model = Model(**spec.model_dump(), created_by=actor.name)
            change.session.add(model)
            change.session.flush()
            change.record("model.created", "model", spec.name, after=_snapshot(model))
    except IntegrityError:
        raise Conflict(f"model {spec.name!r} already exists") from None
    return ModelView.of(model, {})


def get_model(steward: Steward, name: str) -> ModelView:
    with steward.db.read() as session:
        model = find_model(session, name)
        return ModelView.of(model, aliases_of(session, [model.id])[model.id])


def update_model(steward: Steward, actor: Principal, name: str, update: ModelUpdate) -> ModelView:
    changes = update.model_dump(exclude_none=True)
    if not changes:
        raise InvalidInput("nothing to update: give at least one field")
    with steward.change(actor.name) as change:
        model = find_model(change.session, name, for_update=True)
        before = _snapshot(model)
        for key, value in changes.items():
            setattr(model, key, value)
        model.updated_at = datetime.now(UTC)
        change.record("model.updated", "model", name, before=before, after=_snapshot(model))
        aliases = aliases_of(change.session, [model.id])[model.id]
    return ModelView.of(model, aliases)


def set_model_status(steward: Steward, actor: Principal, name: str, status: str) -> ModelView:
    """Archive (``archived``) or restore (``active``) a model; nothing is deleted."""
    with steward.change(actor.name) as change:
        model = find_model(change.session, name, for_update=True)
        if model.status == status:
            raise Conflict(f"model {name!r} is already {status}")
        before = _snapshot(model)
        model.status = status
        model.updated_at = datetime.now(UTC)
        action = "model.archived" if status == "archived" else "model.restored"
        change.record(action, "model", name, before=before, after=_snapshot(model))
        aliases = aliases_of(change.session, [model.id])[model.id]
    return ModelView.of(model, aliases)


def search_models(
    steward: Steward,
    *,
    q: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    risk_tier: str | None = None,
    alias: str | None = None,
    status: str | None = "active",
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Filter the inventory; ``tag`` is ``key`` or ``key=value``; ``status=None`` means all."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    query = select(Model)
    if q:
        pattern = f"%{_escape_like(q[:128])}%"
        query = query.where(
            or_(
                Model.name.ilike(pattern, escape="\\"),
                Model.description.ilike(pattern, escape="\\"),
            )
        )
    if owner:
        query = query.where(Model.owner == owner)
    if risk_tier:
        query = query.where(Model.risk_tier == risk_tier)
    if status:
        query = query.where(Model.status == status)
    if alias:
        query = query.where(Model.id.in_(select(Alias.model_id).where(Alias.alias == alias)))
    with steward.db.read() as session:
        if tag:
            query = query.where(Model.id.in_(_ids_with_tag(session, query, tag)))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        models = session.scalars(query.order_by(Model.name).limit(limit).offset(offset)).all()
        aliases = aliases_of(session, [m.id for m in models])
        items = [ModelView.of(m, aliases[m.id]) for m in models]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ids_with_tag(session: Session, query: Select[Any], tag: str) -> list[int]:
    """Tags are a JSON document; match in Python over the already-filtered candidates."""
    key, _, value = tag.partition("=")
    rows = session.execute(
        select(Model.id, Model.tags).where(Model.id.in_(query.with_only_columns(Model.id)))
    )
    return [mid for mid, tags in rows if key in tags and (not value or tags[key] == value)]
