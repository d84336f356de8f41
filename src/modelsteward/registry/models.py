"""Inventory entries: create, read, search, update and archive models.

A model is never deleted: archiving hides it from default listings and keeps its
versions, aliases and audit trail. Its tags are also kept one per row in
``model_tags`` (written with the model), so filtering by tag is an indexed lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.identity.users import Principal, user_reference
from modelsteward.names import check_name
from modelsteward.registry.specs import ModelSpec, ModelUpdate
from modelsteward.registry.views import MODEL_COLUMNS, ModelView, Page
from modelsteward.store.tables import Alias, Model, ModelTag, ModelVersion

MAX_PAGE = 500
_FIELDS = ("description", "owner", "team", "use_case", "risk_tier", "tags")
_MODELS = cast(Table, Model.__table__)
_TAGS = cast(Table, ModelTag.__table__)
_ALIASES = cast(Table, Alias.__table__)
_VERSIONS = cast(Table, ModelVersion.__table__)
# A model's aliases as one "alias=version,..." string, read with each model row: alias
# names are letters, digits, '_' and '-', so the separators cannot occur in them.
_ALIAS_LIST = (
    select(func.aggregate_strings(_ALIASES.c.alias + "=" + _VERSIONS.c.version.cast(String), ","))
    .join_from(_ALIASES, _VERSIONS, _VERSIONS.c.id == _ALIASES.c.version_id)
    .where(_ALIASES.c.model_id == _MODELS.c.id)
    .scalar_subquery()
    .label("alias_list")
)
_MODEL_ROWS = select(_MODELS.c.id, *(_MODELS.c[c] for c in MODEL_COLUMNS), _ALIAS_LIST)
_MODEL_BY_NAME = _MODEL_ROWS.where(_MODELS.c.name == bindparam("name"))
_ALIASES_OF = (
    select(_ALIASES.c.model_id, _ALIASES.c.alias, _VERSIONS.c.version)
    .join_from(_ALIASES, _VERSIONS, _VERSIONS.c.id == _ALIASES.c.version_id)
    .where(_ALIASES.c.model_id.in_(bindparam("model_ids", expanding=True)))
)


def find_model(session: Session, name: str, *, for_update: bool = False) -> Model:
    check_name(name, what="model name")
    query = select(Model).where(Model.name == name)
    if for_update:
        query = query.with_for_update()
    model = session.scalar(query)
    if model is None:
        raise NotFound(f"model {name!r} not found")
    return model


def aliases_of(session: Session | Connection, model_ids: list[int]) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = {mid: {} for mid in model_ids}
    if not model_ids:
        return result
    for model_id, alias, version in session.execute(_ALIASES_OF, {"model_ids": model_ids}):
        result[model_id][alias] = version
    return result


def _write_tags(session: Session, model_id: int, tags: dict[str, str], *, replace: bool) -> None:
    """Keep ``model_tags`` equal to the model's ``tags`` document."""
    if replace:
        session.execute(delete(_TAGS).where(_TAGS.c.model_id == model_id))
    if tags:
        session.execute(
            insert(_TAGS),
            [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()],
        )


def _snapshot(model: Model) -> dict[str, object]:
    return {"name": model.name, "status": model.status, **{f: getattr(model, f) for f in _FIELDS}}


def create_model(steward: Steward, actor: Principal, spec: ModelSpec) -> ModelView:
    try:
        with steward.change(actor.name) as change:
            if change.session.scalar(select(Model.id).where(Model.name == spec.name)) is not None:
                raise Conflict(f"model {spec.name!r} already exists")
            user_reference(change.session, spec.owner, field="owner")
            model = Model(**spec.model_dump(), created_by=actor.name)
            change.session.add(model)
            change.session.flush()
            _write_tags(change.session, model.id, spec.tags, replace=False)
            change.record("model.created", "model", spec.name, after=_snapshot(model))
    except IntegrityError:
        raise Conflict(f"model {spec.name!r} already exists") from None
    return ModelView.of(model, {})


def get_model(steward: Steward, name: str) -> ModelView:
    check_name(name, what="model name")
    with steward.db.query(snapshot=False) as conn:
        row = conn.execute(_MODEL_BY_NAME, {"name": name}).first()
    if row is None:
        raise NotFound(f"model {name!r} not found")
    return _model_view(row._mapping)


def _model_view(row: Mapping[Any, Any]) -> ModelView:
    aliases: dict[str, int] = {}
    if row["alias_list"]:
        for item in row["alias_list"].split(","):
            alias, _, version = item.partition("=")
            aliases[alias] = int(version)
    return ModelView.from_row(row, aliases)


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
        if "tags" in changes:
            _write_tags(change.session, model.id, changes["tags"], replace=True)
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
    key, _, value = (tag or "").partition("=")
    page, count = _search_statements(
        steward.db.dialect,
        q=bool(q),
        owner=bool(owner),
        risk_tier=bool(risk_tier),
        status=bool(status),
        alias=bool(alias),
        tag=2 if tag and value else 1 if tag else 0,
    )
    arguments = {
        "pattern": f"%{_escape_like(q[:128])}%" if q else None,
        "owner": owner,
        "risk_tier": risk_tier,
        "status": status,
        "alias": alias,
        "tag_key": key,
        "tag_value": value,
        "limit": limit,
        "offset": offset,
    }
    with steward.db.query() as conn:  # one snapshot: the page and the count agree
        rows = conn.execute(page, arguments).all()
        if 0 < len(rows) < limit or (offset == 0 and not rows):
            total = offset + len(rows)  # the page is the last one: no need to count
        else:
            total = conn.execute(count, arguments).scalar() or 0
    return Page(
        items=[_model_view(r._mapping) for r in rows], total=total, limit=limit, offset=offset
    )


@cache
def _search_statements(
    dialect: str, *, q: bool, owner: bool, risk_tier: bool, status: bool, alias: bool, tag: int
) -> tuple[Select[Any], Select[Any]]:
    """The page and count queries for one combination of filters (``tag``: 0 none,
    1 key, 2 key=value), built once: values are bound when they run."""
    conditions: list[ColumnElement[bool]] = []
    if q:
        conditions.append(
            or_(
                _case_blind_like(_MODELS.c.name, dialect),
                _case_blind_like(_MODELS.c.description, dialect),
            )
        )
    if owner:
        conditions.append(_MODELS.c.owner == bindparam("owner"))
    if risk_tier:
        conditions.append(_MODELS.c.risk_tier == bindparam("risk_tier"))
    if status:
        conditions.append(_MODELS.c.status == bindparam("status"))
    if alias:
        named = select(_ALIASES.c.model_id).where(_ALIASES.c.alias == bindparam("alias"))
        conditions.append(_MODELS.c.id.in_(named))
    if tag:
        tagged = select(_TAGS.c.model_id).where(_TAGS.c.key == bindparam("tag_key"))
        if tag == 2:
            tagged = tagged.where(_TAGS.c.value == bindparam("tag_value"))
        conditions.append(_MODELS.c.id.in_(tagged))
    page = (
        _MODEL_ROWS.where(*conditions)
        .order_by(_MODELS.c.name)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return page, select(func.count()).select_from(_MODELS).where(*conditions)


def _case_blind_like(column: ColumnElement[str], dialect: str) -> ColumnElement[bool]:
    """``column ILIKE :pattern``. SQLite's LIKE already ignores the case of ASCII letters
    and only of those, exactly like its ``lower()``, so the ``lower(x) LIKE lower(y)``
    that ILIKE becomes there would only add two function calls per row."""
    if dialect == "sqlite":
        return column.like(bindparam("pattern"), escape="\\")
    return column.ilike(bindparam("pattern"), escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
