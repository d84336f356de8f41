"""Registering and reading immutable model versions.

Artifacts are streamed into the content-addressed store first; the version row,
its blob records and its audit event then commit in one transaction, so a crash at
any point leaves either the whole version or nothing visible (orphaned blobs are
collected by ``steward fsck --gc``).
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound, UntrustedArtifact
from modelsteward.governance.audit import canonical_json
from modelsteward.governance.identity import Principal
from modelsteward.governance.roles import Permission
from modelsteward.registry.flavors.base import get_flavor
from modelsteward.registry.materialize import main_model_file, materialize
from modelsteward.registry.models import find_model
from modelsteward.registry.specs import VersionSpec
from modelsteward.registry.views import VersionView
from modelsteward.store.artifacts import StoredBlob
from modelsteward.store.blobs import remember_blob
from modelsteward.store.tables import Alias, Model, ModelVersion


def content_hash(spec: VersionSpec, files: list[dict[str, Any]]) -> str:
    """Identity of what the version *is*: its files and the facts that change its behaviour."""
    core = {
        "flavor": spec.flavor,
        "files": sorted((f["role"], f["name"], f["sha256"]) for f in files),
        "input_schema": spec.model_dump(mode="json")["input_schema"],
        "output_schema": spec.model_dump(mode="json")["output_schema"],
        "params": spec.params,
        "flavor_options": spec.flavor_options,
    }
    return hashlib.sha256(canonical_json(core).encode()).hexdigest()


def resolve_version(session: Session, model: Model, ref: str | int) -> ModelVersion:
    """A version by number (``3``) or by alias (``champion``)."""
    if isinstance(ref, int) or str(ref).isdigit():
        version = session.scalar(
            select(ModelVersion).where(
                ModelVersion.model_id == model.id, ModelVersion.version == int(ref)
            )
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
    with tempfile.TemporaryDirectory(prefix="steward-validate-") as tmp:
        placed = materialize(steward.artifacts, files, Path(tmp))
        facts = flavor.validate(placed[main_model_file(files)["name"]], steward.settings)
    return {**spec.flavor_options, **facts}


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


def register_version(
    steward: Steward,
    actor: Principal,
    model_name: str,
    spec: VersionSpec,
    blobs: dict[str, StoredBlob],
) -> VersionView:
    """Record a new immutable version whose files are already in the artifact store."""
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
    with steward.db.read() as session:
        find_model(session, model_name)  # 404 before the costly validation
    facts = _validated_flavor_facts(steward, spec, files)
    body = spec.model_dump(mode="json")
    with steward.change(actor.name) as change:
        model = find_model(change.session, model_name, for_update=True)
        if model.status != "active":
            raise Conflict(f"model {model_name!r} is archived; restore it to add versions")
        parent = spec.lineage.parent_version
        if parent is not None and not 1 <= parent <= model.last_version:
            raise InvalidInput(f"parent_version {parent} does not exist for {model_name!r}")
        model.last_version += 1
        model.updated_at = datetime.now(UTC)
        version = ModelVersion(
            model_id=model.id,
            version=model.last_version,
            flavor=spec.flavor,
            description=spec.description,
            files=files,
            input_schema=body["input_schema"],
            output_schema=body["output_schema"],
            training_data=body["training_data"],
            code=body["code"],
            dependencies=body["dependencies"],
            params=spec.params,
            metrics=spec.metrics,
            meta={**spec.metadata, "flavor": facts},
            lineage=body["lineage"],
            tests=body["tests"],
            tags=spec.tags,
            trust=trust,
            content_hash=content_hash(spec, files),
            created_by=actor.name,
        )
        change.session.add(version)
        for f in files:
            remember_blob(change.session, f["sha256"], f["size"])
        change.session.flush()
        view = VersionView.of(model_name, version, [])
        change.record(
            "version.registered",
            "version",
            f"{model_name}/{version.version}",
            after={
                "version": version.version,
                "flavor": spec.flavor,
                "content_hash": version.content_hash,
                "files": files,
                "trust": trust,
            },
        )
    return view


def get_version(steward: Steward, model_name: str, ref: str | int) -> VersionView:
    with steward.db.read() as session:
        model = find_model(session, model_name)
        version = resolve_version(session, model, ref)
        return VersionView.of(model.name, version, version_aliases(session, version))


def list_versions(
    steward: Steward, model_name: str, *, include_archived: bool = True
) -> list[VersionView]:
    with steward.db.read() as session:
        model = find_model(session, model_name)
        query = select(ModelVersion).where(ModelVersion.model_id == model.id)
        if not include_archived:
            query = query.where(ModelVersion.status == "active")
        versions = session.scalars(query.order_by(ModelVersion.version.desc())).all()
        by_version: dict[int, list[str]] = {}
        for alias, vid in session.execute(
            select(Alias.alias, Alias.version_id).where(Alias.model_id == model.id)
        ):
            by_version.setdefault(vid, []).append(alias)
        return [VersionView.of(model.name, v, by_version.get(v.id, [])) for v in versions]


def set_version_status(
    steward: Steward, actor: Principal, model_name: str, ref: str | int, status: str
) -> VersionView:
    """Archive or restore a version. A version that holds an alias cannot be archived."""
    with steward.change(actor.name) as change:
        model = find_model(change.session, model_name, for_update=True)
        version = resolve_version(change.session, model, ref)
        aliases = version_aliases(change.session, version)
        if status == "archived" and aliases:
            raise Conflict(
                f"version {version.version} holds alias(es) {', '.join(aliases)}; move them first"
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
