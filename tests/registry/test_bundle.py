"""Signed bundles carry a version from one instance to another, or are refused whole.

Instance A (the source, always SQLite) exports; instance B imports and runs on every
backend. A refused bundle must leave B exactly as it was: no model, no version, no
audit record and no blob row.
"""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.helpers import admin_token_of, people, settings_for, skops_file, token_for

from modelsteward.api.server import serve_in_thread
from modelsteward.audit import signing
from modelsteward.context import Steward
from modelsteward.errors import Conflict, IntegrityFailure, PayloadTooLarge
from modelsteward.identity.users import SYSTEM, Principal, ensure_bootstrap_admin
from modelsteward.registry.bundle import export_version, import_bundle
from modelsteward.registry.models import create_model, get_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import get_version, register_version
from modelsteward.registry.views import VersionView
from modelsteward.store.tables import AuditEvent, Blob, Model, ModelVersion

SCHEMA = {"columns": [{"name": "age", "type": "integer"}, {"name": "income", "type": "float"}]}
RICH_SPEC: dict[str, Any] = {
    "description": "weekly churn model",
    "input_schema": SCHEMA,
    "output_schema": {"columns": [{"name": "churn", "type": "integer"}]},
    "training_data": {"uri": "s3://lake/churn/train.parquet", "rows": 80},
    "code": {"repository": "https://git.example.com/churn", "commit": "abc1234"},
    "dependencies": {"python": "3.11", "packages": {"scikit-learn": "1.5.0"}},
    "params": {"C": 1.0},
    "metrics": {"auc": 0.91, "f1": 0.8},
    "metadata": {"ticket": "ML-12"},
    "lineage": {"datasets": ["s3://lake/churn/train.parquet"], "run": "run-7"},
    "tests": [{"name": "auc floor", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
    "tags": {"stage": "dev"},
}


def seed_version(steward: Steward, tmp_path: Path, seed: int = 0, **extra: Any) -> VersionView:
    """Register a real sklearn version (plus a notes file) of model ``churn``."""
    model_path = skops_file(tmp_path / f"model-{seed}", seed=seed)
    notes = tmp_path / f"notes-{seed}.txt"
    notes.write_text(f"release notes {seed}\n")
    people(steward, "ana")
    with suppress(Conflict):
        create_model(steward, SYSTEM, ModelSpec(name="churn", owner="ana", risk_tier="high"))
    spec = {
        "flavor": "sklearn",
        "files": [{"role": "model", "name": "model.skops"}, {"role": "extra", "name": "NOTES.txt"}],
        **RICH_SPEC,
        **extra,
    }
    blobs = {
        "model.skops": steward.artifacts.put_file(model_path),
        "NOTES.txt": steward.artifacts.put_file(notes),
    }
    return register_version(steward, SYSTEM, "churn", VersionSpec.model_validate(spec), blobs)


def counts(steward: Steward) -> tuple[int, ...]:
    """(models, versions, audit records, blob rows): what a refused import must not change."""
    with steward.db.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Model, ModelVersion, AuditEvent, Blob)
        )


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Steward]:
    instance = Steward(settings_for(tmp_path / "a"))
    ensure_bootstrap_admin(instance)
    yield instance
    instance.close()


def export_to(steward: Steward, path: Path, ref: str | int = 1, **kwargs: Any) -> Path:
    with path.open("wb") as out:
        export_version(steward, "churn", ref, out, **kwargs)
    return path


@pytest.fixture
def bundle_file(source: Steward, tmp_path: Path) -> Path:
    seed_version(source, tmp_path)
    return export_to(source, tmp_path / "churn.bundle.tar")


def trust_source(destination: Steward, source: Steward) -> None:
    signing.trust_key(destination, SYSTEM, "dev", signing.public_key_text(source.settings))


def test_round_trip_keeps_files_schema_metrics_lineage_and_records_provenance(
    source: Steward, any_steward: Steward, tmp_path: Path
) -> None:
    seed_version(source, tmp_path, seed=0)
    original = seed_version(source, tmp_path, seed=1, lineage={"parent_version": 1, "run": "r8"})
    bundle = export_to(source, tmp_path / "v2.tar", ref=2)
    trust_source(any_steward, source)
    importer = Principal("carol", "data-scientist")

    imported = import_bundle(any_steward, importer, bundle)

    assert (imported.model, imported.version) == ("churn", 1)  # numbered at the destination
    assert [(f.role, f.name, f.sha256, f.size) for f in imported.files] == [
        (f.role, f.name, f.sha256, f.size) for f in original.files
    ]
    for field in ("flavor", "description", "input_schema", "output_schema", "training_data"):
        assert getattr(imported, field) == getattr(original, field), field
    for field in ("code", "dependencies", "params", "metrics", "tests", "tags"):
        assert getattr(imported, field) == getattr(original, field), field
    assert imported.lineage["run"] == "r8" and imported.lineage["parent_version"] is None
    assert imported.metadata["ticket"] == "ML-12"
    assert imported.metadata["flavor"] == original.metadata["flavor"]
    provenance = imported.metadata["imported_from"]
    assert provenance["instance"] == signing.public_key_text(source.settings)
    assert (provenance["model"], provenance["version"]) == ("churn", 2)
    assert provenance["content_hash"] == original.content_hash
    assert provenance["parent_version"] == 1
    assert imported.created_by == "carol"
    model = get_model(any_steward, "churn")  # ana is no user here: kept as a tag
    assert (model.owner, model.tags["former_owner"], model.risk_tier) == (None, "ana", "high")
    for entry in imported.files:
        assert any_steward.artifacts.verify(entry.sha256)
    with any_steward.db.read() as session:
        trail = session.execute(
            select(AuditEvent.actor, AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)
        ).all()
    assert [tuple(row) for row in trail] == [
        ("carol", "version.registered"),
        ("carol", "model.created"),
    ]


def test_an_imported_model_keeps_an_owner_who_is_a_user_here(
    source: Steward, steward: Steward, tmp_path: Path
) -> None:
    seed_version(source, tmp_path)
    trust_source(steward, source)
    people(steward, "ana")
    import_bundle(steward, Principal("carol", "data-scientist"), export_to(source, tmp_path / "b"))
    model = get_model(steward, "churn")
    assert model.owner == "ana" and "former_owner" not in model.tags


def test_gzipped_bundles_import_too(source: Steward, steward: Steward, tmp_path: Path) -> None:
    seed_version(source, tmp_path)
    bundle = export_to(source, tmp_path / "churn.tar.gz", compress=True)
    assert bundle.read_bytes()[:2] == b"\x1f\x8b"
    trust_source(steward, source)
    assert import_bundle(steward, SYSTEM, bundle).metrics == RICH_SPEC["metrics"]


def test_an_existing_model_gets_the_next_version_number(
    source: Steward, steward: Steward, bundle_file: Path, tmp_path: Path
) -> None:
    seed_version(steward, tmp_path / "local", seed=5)
    trust_source(steward, source)
    assert import_bundle(steward, SYSTEM, bundle_file).version == 2


def test_a_bundle_from_an_untrusted_key_is_refused_and_changes_nothing(
    any_steward: Steward, bundle_file: Path
) -> None:
    before = counts(any_steward)
    with pytest.raises(IntegrityFailure, match="untrusted key.*steward keys trust"):
        import_bundle(any_steward, SYSTEM, bundle_file)
    assert counts(any_steward) == before


def test_importing_the_same_bundle_twice_conflicts(
    source: Steward, any_steward: Steward, bundle_file: Path, tmp_path: Path
) -> None:
    trust_source(any_steward, source)
    import_bundle(any_steward, SYSTEM, bundle_file)
    again = export_to(source, tmp_path / "again.tar")  # a fresh export of the same version
    before = counts(any_steward)
    for bundle in (bundle_file, again):
        with pytest.raises(Conflict, match="already here as churn v1"):
            import_bundle(any_steward, SYSTEM, bundle)
    assert counts(any_steward) == before


def test_a_bundle_re_imported_into_its_own_instance_conflicts(
    source: Steward, bundle_file: Path
) -> None:
    with pytest.raises(Conflict, match="already here"):
        import_bundle(source, SYSTEM, bundle_file)


def test_trust_is_carried_as_a_reason_but_granted_again_at_the_destination(
    source: Steward, steward: Steward, tmp_path: Path
) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    create_model(source, SYSTEM, ModelSpec(name="churn"))
    spec = VersionSpec.model_validate(
        {
            "flavor": "pickle",
            "files": [{"role": "model", "name": "model.pkl"}],
            "trust_reason": "built in-house",
        }
    )
    register_version(source, SYSTEM, "churn", spec, {"model.pkl": source.artifacts.put_file(path)})
    bundle = export_to(source, tmp_path / "pickle.tar")
    trust_source(steward, source)

    imported = import_bundle(steward, Principal("dora", "data-scientist"), bundle)

    assert imported.trust is not None
    assert imported.trust["reason"] == "built in-house"
    assert imported.trust["granted_by"] is None  # a data scientist may not grant trust
    assert imported.metadata["imported_from"]["trust"]["granted_by"] == "system"


# --- tampering -------------------------------------------------------------------------


def members_of(bundle: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(bundle) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def flip_model_byte(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    index = next(i for i, (m, _) in enumerate(members) if m.name.startswith("files/"))
    info, data = members[index]
    members[index] = (info, data[:100] + bytes([data[100] ^ 1]) + data[101:])


def edit_manifest(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    manifest = json.loads(members[0][1])
    manifest["version"]["metrics"]["auc"] = 0.99
    members[0] = (members[0][0], json.dumps(manifest).encode())


def flip_signature(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    info, data = members[1]
    members[1] = (info, bytes([data[0] ^ 1]) + data[1:])


def drop_a_file(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    members.pop()


@pytest.mark.parametrize(
    "tamper",
    [flip_model_byte, edit_manifest, flip_signature, drop_a_file],
    ids=["file-byte", "manifest", "signature", "missing-file"],
)
def test_a_tampered_bundle_is_refused_and_changes_nothing(
    source: Steward,
    any_steward: Steward,
    bundle_file: Path,
    tmp_path: Path,
    tamper: Callable[[list[tuple[tarfile.TarInfo, bytes]]], None],
) -> None:
    trust_source(any_steward, source)
    members = members_of(bundle_file)
    assert [m.name for m, _ in members][:2] == ["manifest.json", "signature"]
    tamper(members)
    bad = write_tar(tmp_path / "bad.tar", members)
    before = counts(any_steward)
    with pytest.raises(IntegrityFailure):
        import_bundle(any_steward, SYSTEM, bad)
    assert counts(any_steward) == before


@pytest.mark.parametrize("keep", [0.3, 0.7, 1.0])
def test_a_truncated_bundle_is_refused_and_changes_nothing(
    source: Steward, steward: Steward, bundle_file: Path, tmp_path: Path, keep: float
) -> None:
    """Cut inside the data; ``keep=1.0`` cuts halfway through the last file's bytes."""
    trust_source(steward, source)
    data = bundle_file.read_bytes()
    with tarfile.open(bundle_file) as tar:
        last = tar.getmembers()[-1]
    end = last.offset_data + last.size // 2
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: int(end * keep)])
    before = counts(steward)
    with pytest.raises(IntegrityFailure):
        import_bundle(steward, SYSTEM, cut)
    assert counts(steward) == before


def test_a_truncated_gzipped_bundle_is_refused(
    source: Steward, steward: Steward, tmp_path: Path
) -> None:
    seed_version(source, tmp_path)
    data = export_to(source, tmp_path / "b.tar.gz", compress=True).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    trust_source(steward, source)
    with pytest.raises(IntegrityFailure, match="truncated or corrupt"):
        import_bundle(steward, SYSTEM, cut)


def hostile(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


HEX = "a" * 64


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (hostile("../evil"), "unsafe path"),
        (hostile("/etc/x"), "unsafe path"),
        (hostile("files/../../evil"), "unsafe path"),
        (hostile(f"files/{HEX}", tarfile.SYMTYPE, "/etc/passwd"), "symbolic link"),
        (hostile(f"files/{HEX}", tarfile.LNKTYPE, "manifest.json"), "hard link"),
        (hostile(f"files/{HEX}", tarfile.CHRTYPE), "character device"),
        (hostile("files", tarfile.DIRTYPE), "directory"),
        (hostile("files/aaa"), "unexpected bundle member"),
        (hostile("install.sh"), "unexpected bundle member"),
        (hostile("manifest.json"), "appears twice"),
    ],
    ids=[
        "parent-dir",
        "absolute",
        "dotdot-inside",
        "symlink",
        "hardlink",
        "device",
        "directory",
        "short-hash",
        "script",
        "duplicate",
    ],
)
def test_hostile_tar_members_are_refused(
    source: Steward,
    steward: Steward,
    bundle_file: Path,
    tmp_path: Path,
    member: tarfile.TarInfo,
    message: str,
) -> None:
    trust_source(steward, source)
    members = [*members_of(bundle_file), (member, b"#!/bin/sh\necho owned\n")]
    bad = write_tar(tmp_path / "hostile.tar", members)
    with tarfile.open(bad) as tar:
        assert tar.getnames()[-1] == member.name  # the archive really holds it
    before = counts(steward)
    with pytest.raises(IntegrityFailure, match=message):
        import_bundle(steward, SYSTEM, bad)
    assert counts(steward) == before
    assert not (tmp_path / "evil").exists()


def test_a_bundle_larger_than_the_limit_is_refused(
    source: Steward, tmp_path: Path, bundle_file: Path
) -> None:
    small = Steward(settings_for(tmp_path / "small", STEWARD_MAX_UPLOAD_BYTES="1000"))
    try:
        trust_source(small, source)
        members = [*members_of(bundle_file), (hostile(f"files/{HEX}"), b"x" * 9_000_000)]
        with pytest.raises(PayloadTooLarge):
            import_bundle(small, SYSTEM, write_tar(tmp_path / "big.tar", members))
    finally:
        small.close()


# --- over HTTP -------------------------------------------------------------------------


def test_round_trip_between_two_servers(
    steward: Steward, api: httpx.Client, tmp_path: Path
) -> None:
    seed_version(steward, tmp_path)
    prod = Steward(settings_for(tmp_path / "prod"))
    ensure_bootstrap_admin(prod)
    viewer = {"Authorization": f"Bearer {token_for(steward, 'viewer')}"}
    try:
        with (
            serve_in_thread(prod) as prod_url,
            httpx.Client(
                base_url=prod_url, headers={"Authorization": f"Bearer {admin_token_of(prod)}"}
            ) as prod_api,
        ):
            assert (
                api.get("/api/v1/models/churn/versions/1/bundle", headers=viewer).status_code == 403
            )
            download = api.get("/api/v1/models/churn/versions/1/bundle")
            assert download.status_code == 200, download.text
            assert download.headers["content-type"] == "application/x-tar"
            assert "churn-v1.bundle.tar" in download.headers["content-disposition"]
            octets = {"Content-Type": "application/octet-stream"}

            refused = prod_api.post("/api/v1/bundles", content=download.content, headers=octets)
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "integrity_failure"

            dev_key = api.get("/api/v1/keys").json()["instance"]
            assert download.headers["x-bundle-signer"] == dev_key
            trusted = prod_api.post("/api/v1/keys", json={"name": "dev", "public_key": dev_key})
            assert trusted.status_code == 201, trusted.text
            assert prod_api.get("/api/v1/keys").json()["trusted"][0]["name"] == "dev"

            created = prod_api.post("/api/v1/bundles", content=download.content, headers=octets)
            assert created.status_code == 201, created.text
            body = created.json()
            assert body["metrics"] == RICH_SPEC["metrics"]
            assert body["metadata"]["imported_from"]["instance"] == dev_key
            again = prod_api.post("/api/v1/bundles", content=download.content, headers=octets)
            assert again.status_code == 409

            copy = prod_api.get("/api/v1/models/churn/versions/1/files/model.skops")
            original = api.get("/api/v1/models/churn/versions/1/files/model.skops")
            assert copy.content == original.content
            assert prod_api.delete("/api/v1/keys/dev").status_code == 200
            assert prod_api.get("/api/v1/keys").json()["trusted"] == []
        assert get_version(prod, "churn", 1).created_by == "admin"
    finally:
        prod.close()


def test_the_bundle_upload_must_be_a_raw_body(api: httpx.Client) -> None:
    response = api.post("/api/v1/bundles", json={"not": "a bundle"})
    assert response.status_code == 400
    garbage = api.post(
        "/api/v1/bundles",
        content=b"not a tar at all" * 100,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert garbage.status_code == 422
    assert garbage.json()["error"]["code"] == "integrity_failure"
