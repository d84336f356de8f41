"""Signed version bundles: move a version between instances as one file.

A bundle is a tar (optionally gzipped) holding ``manifest.json`` (the model's
inventory fields and the version's full view, files listed with their sha256),
``signature`` (Ed25519 over ``SIGNING_CONTEXT + manifest.json``) and
``files/<sha256>`` for each artifact. The signature covers every artifact through
its hash. Import accepts bundles signed by this instance or by a trusted key,
verifies every byte while streaming it into the artifact store, and registers the
version through the normal path (next version number, validation, audit), with its
provenance in ``metadata.imported_from``. A bundle that fails any check changes
nothing in the database; bytes it staged are orphans for ``steward fsck --gc``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from modelsteward.audit import signing
from modelsteward.audit.chain import canonical_json
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.errors import (
    Conflict,
    IntegrityFailure,
    InvalidInput,
    PayloadTooLarge,
    UntrustedArtifact,
)
from modelsteward.identity.users import Principal
from modelsteward.registry.bundle_tar import (
    MANIFEST,
    SIGNATURE,
    file_member,
    read_members,
    read_small,
    unreadable_archive,
)
from modelsteward.registry.flavors.base import get_flavor
from modelsteward.registry.materialize import main_model_file, materialize
from modelsteward.registry.models import create_model, find_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version, resolve_version, version_aliases
from modelsteward.registry.views import VersionView
from modelsteward.store.artifacts import CHUNK, ArtifactStore, StoredBlob
from modelsteward.store.refused import removed_if_refused
from modelsteward.store.tables import Model, ModelVersion, User

FORMAT = "modelsteward.bundle"
FORMAT_VERSION = 1
SIGNING_CONTEXT = b"modelsteward.bundle.v1\n"
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
_INVENTORY = ("name", "description", "owner", "team", "use_case", "risk_tier", "tags")
_GZIP_MAGIC = b"\x1f\x8b"
FORMER_OWNER = "former_owner"


class BundleSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    public_key: str


class BundleManifest(BaseModel):
    """What an importer reads from ``manifest.json`` (after checking its signature)."""

    model_config = ConfigDict(frozen=True)
    format: Literal["modelsteward.bundle"]
    format_version: Literal[1]
    exported_at: datetime
    source: BundleSource
    model: ModelSpec
    version: VersionView


def _inventory_here(steward: Steward, spec: ModelSpec) -> ModelSpec:
    """The model's entry as this instance can hold it: an owner who is no user here
    is kept as the ``former_owner`` tag, and the model arrives with no owner."""
    if spec.owner is None:
        return spec
    with steward.db.read() as session:
        if session.scalar(select(User.id).where(User.name == spec.owner)) is not None:
            return spec
    return spec.model_copy(update={"owner": None, "tags": {**spec.tags, FORMER_OWNER: spec.owner}})


def bundle_limit(settings: Settings) -> int:
    """Largest bundle accepted: the upload limit plus room for the manifest."""
    return settings.max_upload_bytes + MAX_MANIFEST_BYTES + 64 * 1024


class _VerifyingReader:
    """Reads exactly ``size`` bytes of one blob for tarfile, checking length and hash."""

    def __init__(self, raw: IO[bytes], sha256: str, size: int) -> None:
        self.raw, self.sha256, self.remaining = raw, sha256, size
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(self.remaining if n < 0 else min(n, self.remaining))
        if not chunk and self.remaining:
            raise IntegrityFailure(f"artifact {self.sha256} is shorter than recorded; run fsck")
        self.remaining -= len(chunk)
        self.digest.update(chunk)
        return chunk

    def check(self) -> None:
        if self.digest.hexdigest() != self.sha256:
            raise IntegrityFailure(f"artifact {self.sha256} is corrupt in the store; run fsck")


def _add_member(tar: tarfile.TarFile, name: str, size: int, fileobj: Any, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.type = size, mtime, 0o644, tarfile.REGTYPE
    tar.addfile(info, fileobj)


def export_version(
    steward: Steward, model_name: str, ref: str | int, out: BinaryIO, *, compress: bool = False
) -> dict[str, Any]:
    """Write one signed bundle of a version to ``out``, streaming its artifacts."""
    with steward.db.read() as session:
        model = find_model(session, model_name)
        row = resolve_version(session, model, ref)
        view = VersionView.of(model.name, row, version_aliases(session, row))
        inventory = {field: getattr(model, field) for field in _INVENTORY}
    now = datetime.now(UTC)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": now.isoformat(),
        "source": {"public_key": signing.public_key_text(steward.settings)},
        "model": inventory,
        "version": view.model_dump(mode="json"),
    }
    data = canonical_json(manifest).encode()
    signature = signing.sign(steward.settings, SIGNING_CONTEXT + data)
    sizes = {f.sha256: f.size for f in view.files}
    mtime = int(now.timestamp())
    with tarfile.open(fileobj=out, mode="w|gz" if compress else "w|") as tar:
        _add_member(tar, MANIFEST, len(data), io.BytesIO(data), mtime)
        _add_member(tar, SIGNATURE, len(signature), io.BytesIO(signature), mtime)
        for sha256, size in sizes.items():
            with steward.artifacts.open(sha256) as raw:
                reader = _VerifyingReader(raw, sha256, size)
                _add_member(tar, file_member(sha256), size, reader, mtime)
                reader.check()
    return manifest


def _verified_manifest(steward: Steward, data: bytes, signature: bytes) -> BundleManifest:
    try:
        raw = json.loads(data)
        signer = raw["source"]["public_key"]
    except (ValueError, RecursionError, KeyError, TypeError):
        raise IntegrityFailure("bundle manifest is not valid JSON with a source key") from None
    if not isinstance(signer, str) or not signing.verify(signer, SIGNING_CONTEXT + data, signature):
        raise IntegrityFailure("bundle signature does not match its manifest (tampered?)")
    if signing.trusted_key_name(steward, signer) is None:
        raise IntegrityFailure(
            f"bundle signed by an untrusted key {signer}; if you trust its source, "
            f"trust it with 'steward keys trust NAME {signer}' and import again"
        )
    try:
        return BundleManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"bundle manifest is not importable: {where}: {first['msg']}") from None


def _provenance(manifest: BundleManifest) -> dict[str, Any]:
    view = manifest.version
    provenance: dict[str, Any] = {
        "instance": manifest.source.public_key,
        "model": view.model,
        "version": view.version,
        "content_hash": view.content_hash,
        "exported_at": manifest.exported_at.isoformat(),
    }
    if view.lineage.get("parent_version") is not None:
        provenance["parent_version"] = view.lineage["parent_version"]
    if view.trust is not None:
        provenance["trust"] = view.trust
    if isinstance(view.metadata.get("imported_from"), dict):
        provenance["earlier"] = view.metadata["imported_from"]
    return provenance


def _spec_of(manifest: BundleManifest) -> VersionSpec:
    """The version as it is registered here; parent numbers belong to the source."""
    view = manifest.version
    metadata = {k: v for k, v in view.metadata.items() if k not in ("flavor", "imported_from")}
    metadata["imported_from"] = _provenance(manifest)
    facts = view.metadata.get("flavor")
    try:
        return VersionSpec.model_validate(
            {
                "flavor": view.flavor,
                "description": view.description,
                "files": [{"role": f.role, "name": f.name, "sha256": f.sha256} for f in view.files],
                "input_schema": view.input_schema,
                "output_schema": view.output_schema,
                "training_data": view.training_data,
                "code": view.code,
                "dependencies": view.dependencies,
                "params": view.params,
                "metrics": view.metrics,
                "metadata": metadata,
                "flavor_options": facts if isinstance(facts, dict) else {},
                "lineage": {k: v for k, v in view.lineage.items() if k != "parent_version"},
                "tests": view.tests,
                "tags": view.tags,
                "trust_reason": (view.trust or {}).get("reason"),
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"bundle version is not importable: {where}: {first['msg']}") from None


def _check_destination(steward: Steward, manifest: BundleManifest) -> bool:
    """Refuse a second import of the same source version; True when the model exists."""
    source, view = manifest.source.public_key, manifest.version
    same = ("instance", "model", "version", "content_hash")
    wanted = {k: v for k, v in _provenance(manifest).items() if k in same}
    own = source == signing.public_key_text(steward.settings)
    with steward.db.read() as session:
        model = session.scalar(select(Model).where(Model.name == manifest.model.name))
        if model is None:
            return False
        if model.status != "active":
            raise Conflict(f"model {model.name!r} is archived; restore it to import versions")
        rows = session.execute(
            select(ModelVersion.version, ModelVersion.meta, ModelVersion.content_hash).where(
                ModelVersion.model_id == model.id
            )
        )
        for number, meta, content in rows:
            earlier = (meta or {}).get("imported_from") or {}
            is_copy = {k: earlier.get(k) for k in same} == wanted
            is_original = own and (model.name, number, content) == (
                view.model,
                view.version,
                view.content_hash,
            )
            if is_copy or is_original:
                raise Conflict(
                    f"{view.model} v{view.version} from that instance is already here "
                    f"as {model.name} v{number}"
                )
    return True


def _preflight(steward: Steward, spec: VersionSpec, blobs: dict[str, StoredBlob]) -> None:
    """Run the checks registration runs, before this import creates a model."""
    flavor = get_flavor(spec.flavor)
    if flavor.needs_trust and not spec.trust_reason:
        raise UntrustedArtifact(f"flavor {spec.flavor!r} needs a trust reason; the bundle has none")
    files = [{"role": f.role, "name": f.name, "sha256": blobs[f.name].sha256} for f in spec.files]
    with tempfile.TemporaryDirectory(prefix="steward-import-") as tmp:
        placed = materialize(steward.artifacts, files, Path(tmp))
        flavor.validate(placed[main_model_file(files)["name"]], steward.settings)


def _store_member(store: ArtifactStore, handle: IO[bytes], sha256: str, size: int) -> StoredBlob:
    try:
        return store.put_stream(
            iter(lambda: handle.read(CHUNK), b""), expected_sha256=sha256, max_bytes=size
        )
    except (IntegrityFailure, PayloadTooLarge):
        raise IntegrityFailure(
            f"bundle file {file_member(sha256)} does not match its hash"
        ) from None


@contextmanager
def _reading(path: Path) -> Iterator[tarfile.TarFile]:
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
    try:
        with tarfile.open(path, mode="r:gz" if compressed else "r:") as tar:
            yield tar
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise unreadable_archive(exc) from None


def import_bundle(steward: Steward, actor: Principal, path: Path | str) -> VersionView:
    """Verify a bundle completely and register its version here; see the module doc."""
    with _reading(Path(path)) as tar:
        members = read_members(tar, bundle_limit(steward.settings))
        data = read_small(tar, members, MANIFEST, MAX_MANIFEST_BYTES)
        signature = read_small(tar, members, SIGNATURE, 1024)
        manifest = _verified_manifest(steward, data, signature)
        if manifest.model.name != manifest.version.model:
            raise IntegrityFailure("bundle manifest names two different models")
        sizes = {f.sha256: f.size for f in manifest.version.files}
        shipped = {name for name in members if name not in (MANIFEST, SIGNATURE)}
        if shipped != {file_member(sha) for sha in sizes}:
            raise IntegrityFailure("bundle files do not match its manifest (missing or extra)")
        for sha256, size in sizes.items():
            if members[file_member(sha256)].size != size:
                raise IntegrityFailure(f"bundle file {file_member(sha256)} has the wrong size")
        spec = _spec_of(manifest)
        model_exists = _check_destination(steward, manifest)
        with removed_if_refused(steward) as written:
            stored: dict[str, StoredBlob] = {}
            for sha256, size in sizes.items():
                handle = tar.extractfile(members[file_member(sha256)])
                if handle is None:
                    raise IntegrityFailure(f"bundle member {file_member(sha256)} is not a file")
                with handle:
                    stored[sha256] = _store_member(steward.artifacts, handle, sha256, size)
                written.append(stored[sha256])
            blobs = {f.name: stored[f.sha256] for f in manifest.version.files}
            if not model_exists:
                _preflight(steward, spec, blobs)
                with suppress(Conflict):  # created meanwhile by another import
                    create_model(steward, actor, _inventory_here(steward, manifest.model))
            return register_version(steward, actor, manifest.model.name, spec, blobs)
