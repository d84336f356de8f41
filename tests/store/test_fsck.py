"""fsck finds damage between metadata, artifacts and the audit chain, and collects litter."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from sqlalchemy import text
from tests.helpers import skops_file

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version
from modelsteward.registry.views import VersionView
from modelsteward.store.fsck import FileProblem, run_fsck

DAY = 24 * 3600


def seed_version(steward: Steward, tmp_path: Path, seed: int = 0) -> VersionView:
    if seed == 0:
        create_model(steward, SYSTEM, ModelSpec(name="churn"))
    blob = steward.artifacts.put_file(skops_file(tmp_path / f"m{seed}", seed=seed))
    spec = VersionSpec.model_validate(
        {
            "flavor": "sklearn",
            "files": [{"role": "model", "name": "model.skops"}],
            "metrics": {"auc": 0.9},
        }
    )
    return register_version(steward, SYSTEM, "churn", spec, {"model.skops": blob})


def blob_file(steward: Steward, sha256: str) -> Path:
    return next(Path(steward.artifacts.root, "blobs").rglob(sha256))


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_clean_store_is_ok(any_steward: Steward, tmp_path: Path) -> None:
    seed_version(any_steward, tmp_path, 0)
    seed_version(any_steward, tmp_path, 1)
    seen: list[tuple[int, int]] = []

    report = run_fsck(any_steward, progress=lambda done, total: seen.append((done, total)))

    assert report.ok
    assert (report.versions_checked, report.files_checked, report.blobs_checked) == (2, 2, 2)
    assert report.audit.broken_at is None and report.audit.checked >= 3
    assert report.orphan_blobs == () and report.stale_staging == 0
    assert seen[-1] == (4, 4)
    assert json.loads(json.dumps(report.as_dict()))["ok"] is True


def test_a_flipped_byte_is_reported_as_corrupt(any_steward: Steward, tmp_path: Path) -> None:
    version = seed_version(any_steward, tmp_path)
    sha256 = version.files[0].sha256
    path = blob_file(any_steward, sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    report = run_fsck(any_steward)

    assert not report.ok
    assert report.corrupt == (FileProblem("churn", 1, "model.skops", sha256),)
    assert report.missing == ()


def test_a_deleted_blob_is_reported_as_missing(steward: Steward, tmp_path: Path) -> None:
    version = seed_version(steward, tmp_path)
    sha256 = version.files[0].sha256
    blob_file(steward, sha256).unlink()

    report = run_fsck(steward)

    assert not report.ok
    assert report.missing == (FileProblem("churn", 1, "model.skops", sha256),)
    assert report.missing_blobs == (sha256,)
    assert report.as_dict()["missing"][0]["file"] == "model.skops"


def test_an_edited_audit_row_breaks_the_chain_at_its_seq(
    any_steward: Steward, tmp_path: Path
) -> None:
    seed_version(any_steward, tmp_path)
    with any_steward.db.write() as session:
        session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))

    report = run_fsck(any_steward)

    assert not report.ok
    assert report.audit.broken_at == 2
    assert report.audit.reason == "record content was altered"


def test_gc_collects_old_orphans_and_staging_but_never_a_referenced_blob(
    steward: Steward, tmp_path: Path
) -> None:
    version = seed_version(steward, tmp_path)
    referenced = version.files[0].sha256
    old_orphan = steward.artifacts.put_bytes(b"left by a killed registration").sha256
    young_orphan = steward.artifacts.put_bytes(b"a registration still in flight").sha256
    staging = Path(steward.artifacts.root, "staging")
    old_staging, young_staging = staging / "abandoned", staging / "writing"
    old_staging.write_bytes(b"partial")
    young_staging.write_bytes(b"partial")
    for path in (blob_file(steward, referenced), blob_file(steward, old_orphan), old_staging):
        age(path, DAY)

    report = run_fsck(steward)  # without gc: listed, nothing removed
    assert report.ok
    assert set(report.orphan_blobs) == {old_orphan, young_orphan}
    assert report.stale_staging == 1
    assert steward.artifacts.exists(old_orphan) and old_staging.exists()

    collected = run_fsck(steward, gc=True, grace_s=3600)

    assert (collected.collected_blobs, collected.collected_staging) == (1, 1)
    assert not steward.artifacts.exists(old_orphan) and not old_staging.exists()
    assert steward.artifacts.exists(young_orphan) and young_staging.exists()
    assert steward.artifacts.verify(referenced)
    after = run_fsck(steward, gc=True, grace_s=0)
    assert after.ok and after.orphan_blobs == (young_orphan,)
    assert steward.artifacts.verify(referenced)
    assert run_fsck(steward).orphan_blobs == ()
