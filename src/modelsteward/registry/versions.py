"""Registering and reading immutable model versions.

Artifacts are streamed into the content-addressed store first; the version row,
its blob records and its audit event then commit in one transaction, so a crash at
any point leaves either the whole version or nothing visible (orphaned blobs are
collected by ``steward fsck --gc``).

The hot paths (register, get, list) use plain SQL statements on the tables rather
than loading ORM objects: a registration is one ``UPDATE ... RETURNING`` that locks
the model row and draws the number, three inserts (version, blobs, audit record)
and the audit chain's end, in one transaction.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, bindparam, select, update
from sqlalchemy.orm import Session

from modelsteward.audit.chain import canonical_json
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound, UntrustedArtifact
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.names import check_name
from modelsteward.registry.alias_keepers import kept_by
from modelsteward.registry.flavors.base import Flavor, get_flavor, is_self_contained
from modelsteward.registry.materialize import main_model_file, materialize
from modelsteward.registry.models import find_model
from modelsteward.registry.specs import VersionSpec
from modelsteward.registry.views import VERSION_COLUMNS, VersionView
from modelsteward.store.artifacts import StoredBlob
from modelsteward.store.blobs import remember_blobs
from modelsteward.store.tables import Alias, Model, ModelVersion

_MODELS = cast(Table, Model.__table__)
_VERSIONS = cast(Table, ModelVersion.__table__)
_ALIASES = cast(Table, Alias.__table__)
_MAX_NUMBER = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def content_hash(spec: VersionSpec, files: list[dict[str, Any]]) -> str:
    """Identity of what the version *is*: its files and the facts that change its behaviour."""
    body = spec.model_dump(mode="json", include={"input_schema", "output_schema"})
    core = {
        "flavor": spec.flavor,
        "files": sorted((f["role"], f["name"], f["sha256"]) for f in files),
        "input_schema": body["input_schema"],
        "output_schema": body["output_schema"],
        "params": spec.params,
        "flavor_options": spec.flavor_options,
    }
    return hashlib.sha256(canonical_json(core).encode()).hexdigest()


def _number_of(ref: str | int) -> int | None:
    """The version number a reference names, or None when it names an alias."""
    if isinstance(ref, int):
        return ref
    return int(ref) if ref.isdecimal() and ref.isascii() else None


def resolve_version(session: Session, model: Model, ref: str | int) -> ModelVersion:
    """A version by number (``3``) or by alias (``champion``)."""
    number = _number_of(ref)
    if number is not None:
        version = (
            session.scalar(
                select(ModelVersion).where(
                    ModelVersion.model_id == model.id, ModelVersion.version == number
                )
            )
            if 0 < number <= _MAX_NUMBER
            else None
        )
    else:
        version = session.scalar(
            select(ModelVersion)
            .join(Alias, Alias.version_id == ModelVersion.id)
            .where(Alias.model_id == model.id, Alias.alias == str(ref))
        )
    if version is None:
        raise NotFound(f"model {model.name!r} has no version {str(ref)[:64]!r}")
    return version


def version_aliases(session: Session, version: ModelVersion) -> list[str]:
    return list(session.scalars(select(Alias.alias).where(Alias.version_id == version.id)))


def _validated_flavor_facts(
    steward: Steward, spec: VersionSpec, files: list[dict[str, Any]]
) -> dict[str, Any]:
    flavor = get_flavor(spec.flavor)
    main = main_model_file(files)
    in_place = steward.artifacts.local_path(main["sha256"]) if is_self_contained(flavor) else None
    if in_place is not None:
        facts = _validate_in_place(flavor, in_place, main["name"], steward)
    else:
        with tempfile.TemporaryDirectory(prefix="steward-validate-") as tmp:
            placed = materialize(steward.artifacts, files, Path(tmp))
            facts = flavor.validate(placed[main["name"]], steward.settings)
    return {**spec.flavor_options, **facts}


def _validate_in_place(flavor: Flavor, path: Path, name: str, steward: Steward) -> dict[str, Any]:
    """Check a local blob where it lies (it was hash-verified when stored, and blobs are
    never rewritten); messages name the file as uploaded, not by its hash."""
    try:
        return flavor.validate(path, steward.settings)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace(path.name, name), details=exc.details) from exc


def _trust_record(spec: VersionSpec, actor: Principal) -> dict[str, Any] | None:
    if not get_flavor(spec.flavor).needs_trust:
        return None
    if not spec.trust_reason:
        raise UntrustedArtifact(
            f"flavor {spec.flavor!r} can run arbitrary code when loaded; register it with an "
            "explicit trust reason (trust_reason / --trust REASON) to accept that"
        )
    now = datetime.now(UTC).isoformat()
    granted = actor.can(Permission.TRUST_GRANT)
    return {
        "reason": spec.trust_reason,
        "requested_by": actor.name,
        "requested_at": now,
        "granted_by": actor.name if granted else None,
        "granted_at": now if granted else None,
    }


_MODEL_STATUS = select(_MODELS.c.status).where(_MODELS.c.name == bindparam("model_name"))
_DRAW_NUMBER = (
    update(_MODELS)
    .where(_MODELS.c.name == bindparam("model_name"), _MODELS.c.status == "active")
    .values(
        last_version=_MODELS.c.last_version + 1,
        updated_at=bindparam("now", type_=_MODELS.c.updated_at.type),
    )
    .returning(_MODELS.c.id, _MODELS.c.last_version)
)
_INSERT_VERSION = _VERSIONS.insert()


def _refuse_registration(conn: Connection, model_name: str) -> None:
    """Raise why ``model_name`` takes no new version (missing, or archived); else return."""
    status = conn.execute(_MODEL_STATUS, {"model_name": model_name}).scalar()
    if status is None:
        raise NotFound(f"model {model_name!r} not found")
    if status != "active":
        raise Conflict(f"model {model_name!r} is archived; restore it to add versions")


def check_registrable(steward: Steward, model_name: str) -> None:
    """Fail early (404, or 409 for an archived model) before costly uploads or checks.

    Only a hint: ``register_version`` decides under the model's row lock.
    """
    check_name(model_name, what="model name")
    with steward.db.query(snapshot=False) as conn:
        _refuse_registration(conn, model_name)


def _draw_number(conn: Connection, model_name: str, now: datetime) -> tuple[int, int]:
    """Lock the model row and take its next version number: (model id, number)."""
    drawn = conn.execute(_DRAW_NUMBER, {"model_name": model_name, "now": now}).first()
    if drawn is None:
        _refuse_registration(conn, model_name)
        raise Conflict(f"model {model_name!r} changed during registration; try again")
    return drawn[0], drawn[1]


def register_version(
    steward: Steward,
    actor: Principal,
    model_name: str,
    spec: VersionSpec,
    blobs: dict[str, StoredBlob],
) -> VersionView:
    """Record a new immutable version whose files are already in the artifact store.

    The model's existence and status are checked under its row lock, in the write
    transaction. A caller that would otherwise waste work on a missing or archived
    model (the upload route, before it reads the files) calls ``check_registrable``
    first.
    """
    declared = {f.name for f in spec.files}
    if declared != set(blobs):
        missing, extra = declared - set(blobs), set(blobs) - declared
        raise InvalidInput(
            f"uploaded files do not match the manifest (missing: {sorted(missing)[:5]}, "
            f"unexpected: {sorted(extra)[:5]})"
        )
    files: list[dict[str, Any]] = [
        {"role": f.role, "name": f.name, "sha256": blobs[f.name].sha256, "size": blobs[f.name].size}
        for f in spec.files
    ]
    for entry in spec.files:
        if entry.sha256 and entry.sha256 != blobs[entry.name].sha256:
            raise InvalidInput(f"hash mismatch for {entry.name!r}")
    trust = _trust_record(spec, actor)
    check_name(model_name, what="model name")
    facts = _validated_flavor_facts(steward, spec, files)
    body = spec.model_dump(
        mode="json",
        include={
            "input_schema",
            "output_schema",
            "training_data",
            "code",
            "dependencies",
            "lineage",
            "tests",
        },
    )
    row: dict[str, Any] = {
        "flavor": spec.flavor,
        "status": "active",
        "description": spec.description,
        "files": files,
        "input_schema": body["input_schema"],
        "output_schema": body["output_schema"],
        "training_data": body["training_data"],
        "code": body["code"],
        "dependencies": body["dependencies"],
        "params": spec.params,
        "metrics": spec.metrics,
        "meta": {**spec.metadata, "flavor": facts},
        "lineage": body["lineage"],
        "tests": body["tests"],
        "tags": spec.tags,
        "trust": trust,
        "content_hash": content_hash(spec, files),
        "created_by": actor.name,
    }
    with steward.change(actor.name) as change:
        conn = change.connection
        row["created_at"] = datetime.now(UTC)
        row["model_id"], row["version"] = _draw_number(conn, model_name, row["created_at"])
        parent = spec.lineage.parent_version
        if parent is not None and not 1 <= parent < row["version"]:
            raise InvalidInput(f"parent_version {parent} does not exist for {model_name!r}")
        conn.execute(_INSERT_VERSION, row)
        remember_blobs(conn, {f["sha256"]: f["size"] for f in files})
        change.record(
            "version.registered",
            "version",
            f"{model_name}/{row['version']}",
            after={
                "version": row["version"],
                "flavor": spec.flavor,
                "content_hash": row["content_hash"],
                "files": files,
                "trust": trust,
            },
        )
    return VersionView.from_row(model_name, row, [])


def _version_query(*, by: str) -> Select[Any]:
    """A model's versions (one row per alias held), by number, by alias, or all of them."""
    held = _ALIASES.alias("held")
    query = (
        select(*(_VERSIONS.c[c] for c in VERSION_COLUMNS), held.c.alias)
        .join_from(_VERSIONS, _MODELS, _MODELS.c.id == _VERSIONS.c.model_id)
        .outerjoin(held, held.c.version_id == _VERSIONS.c.id)
        .where(_MODELS.c.name == bindparam("model_name"))
    )
    if by == "number":
        return query.where(_VERSIONS.c.version == bindparam("number"))
    if by == "alias":
        named = _ALIASES.alias("named")
        return query.join(
            named,
            (named.c.version_id == _VERSIONS.c.id)
            & (named.c.model_id == _MODELS.c.id)
            & (named.c.alias == bindparam("alias")),
        )
    if by == "active":
        query = query.where(_VERSIONS.c.status == "active")
    return query.order_by(_VERSIONS.c.version.desc())


_BY_NUMBER = _version_query(by="number")
_BY_ALIAS = _version_query(by="alias")
_ALL_VERSIONS = _version_query(by="all")
_ACTIVE_VERSIONS = _version_query(by="active")
_MODEL_ID = select(_MODELS.c.id).where(_MODELS.c.name == bindparam("model_name"))


def _model_exists(conn: Connection, model_name: str) -> bool:
    return conn.execute(_MODEL_ID, {"model_name": model_name}).first() is not None


def get_version(steward: Steward, model_name: str, ref: str | int) -> VersionView:
    """One version by number or alias, with the aliases it holds, in one query."""
    check_name(model_name, what="model name")
    number = _number_of(ref)
    with steward.db.query(snapshot=False) as conn:
        if number is None:
            rows = conn.execute(_BY_ALIAS, {"model_name": model_name, "alias": str(ref)}).all()
        elif 0 < number <= _MAX_NUMBER:
            rows = conn.execute(_BY_NUMBER, {"model_name": model_name, "number": number}).all()
        else:
            rows = []
        if not rows:
            if not _model_exists(conn, model_name):
                raise NotFound(f"model {model_name!r} not found")
            raise NotFound(f"model {model_name!r} has no version {str(ref)[:64]!r}")
    aliases = [r.alias for r in rows if r.alias is not None]
    return VersionView.from_row(model_name, rows[0]._mapping, aliases)


def list_versions(
    steward: Steward, model_name: str, *, include_archived: bool = True
) -> list[VersionView]:
    """A model's versions, newest first, each with its aliases, in one query."""
    check_name(model_name, what="model name")
    query = _ALL_VERSIONS if include_archived else _ACTIVE_VERSIONS
    with steward.db.query(snapshot=False) as conn:
        rows = conn.execute(query, {"model_name": model_name}).all()
        if not rows and not _model_exists(conn, model_name):
            raise NotFound(f"model {model_name!r} not found")
    views: list[VersionView] = []
    aliases: list[str] = []
    for i, row in enumerate(rows):
        if row.alias is not None:
            aliases.append(row.alias)
        if i + 1 == len(rows) or rows[i + 1].version != row.version:
            views.append(VersionView.from_row(model_name, row._mapping, aliases))
            aliases = []
    return views


def set_version_status(
    steward: Steward,
    actor: Principal,
    model_name: str,
    ref: str | int,
    status: str,
    *,
    leave_kept: bool = False,
) -> VersionView:
    """Archive or restore a version. A version that holds an alias cannot be archived,
    except, with ``leave_kept``, an alias another service keeps (``alias_keepers``): a
    retiring champion keeps ``champion`` until the successor's rollout moves it."""
    with steward.change(actor.name) as change:
        model = find_model(change.session, model_name, for_update=True)
        version = resolve_version(change.session, model, ref)
        aliases = version_aliases(change.session, version)
        keepers = {a: kept_by(change.session, model.id, a) for a in aliases}
        blocking = [a for a in aliases if not (leave_kept and keepers[a])]
        if status == "archived" and blocking:
            kept = "; ".join(f"{a} follows {keepers[a]}" for a in blocking if keepers[a])
            hint = f"{kept}: deploy a successor there first" if kept else "move them first"
            raise Conflict(
                f"version {version.version} holds alias(es) {', '.join(blocking)}; {hint}"
            )
        if version.status == status:
            raise Conflict(f"version {version.version} is already {status}")
        before = {"status": version.status}
        version.status = status
        action = "version.archived" if status == "archived" else "version.restored"
        change.record(
            action,
            "version",
            f"{model_name}/{version.version}",
            before=before,
            after={"status": status},
        )
        return VersionView.of(model.name, version, aliases)


def grant_trust(
    steward: Steward, actor: Principal, model_name: str, ref: str | int, reason: str
) -> VersionView:
    """Record the explicit decision that a code-executing artifact may be loaded."""
    with steward.change(actor.name) as change:
        model = find_model(change.session, model_name, for_update=True)
        version = resolve_version(change.session, model, ref)
        if version.trust is None:
            raise InvalidInput(f"flavor {version.flavor!r} needs no trust decision")
        if version.trust.get("granted_by"):
            raise Conflict(f"version {version.version} is already trusted")
        before = dict(version.trust)
        version.trust = {
            **version.trust,
            "granted_by": actor.name,
            "granted_at": datetime.now(UTC).isoformat(),
            "grant_reason": reason[:1024],
        }
        change.record(
            "version.trusted",
            "version",
            f"{model_name}/{version.version}",
            before=before,
            after=version.trust,
        )
        return VersionView.of(model.name, version, version_aliases(change.session, version))
