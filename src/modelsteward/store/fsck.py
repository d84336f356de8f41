"""``steward fsck``: check that the metadata, the artifacts and the audit chain agree.

Every version's files must exist in the artifact store and re-hash to their sha256;
every blob the database knows must exist; the audit chain must verify. Blobs in the
store that no row knows (left by a process killed mid-registration) and abandoned
staging files are listed, and with ``gc=True`` removed once older than ``grace_s``,
so a registration still in flight is never collected. A blob a row refers to is
never removed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward
from modelsteward.store.artifacts import ArtifactStore
from modelsteward.store.tables import Blob, Model, ModelVersion

Progress = Callable[[int, int], None]
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileProblem:
    model: str
    version: int
    file: str
    sha256: str


@dataclass(frozen=True)
class AuditCheck:
    checked: int
    broken_at: int | None
    reason: str


@dataclass(frozen=True)
class FsckReport:
    versions_checked: int
    files_checked: int
    blobs_checked: int
    missing: tuple[FileProblem, ...]
    corrupt: tuple[FileProblem, ...]
    missing_blobs: tuple[str, ...]
    audit: AuditCheck
    orphan_blobs: tuple[str, ...]
    stale_staging: int
    collected_blobs: int = 0
    collected_staging: int = 0

    @property
    def ok(self) -> bool:
        """Orphans and stale staging files are litter, not damage; they do not fail fsck."""
        return (
            not self.missing
            and not self.corrupt
            and not self.missing_blobs
            and self.audit.broken_at is None
        )

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def _version_files(steward: Steward) -> tuple[int, dict[str, list[FileProblem]]]:
    """Every version file, grouped by blob so each blob is hashed once."""
    by_blob: dict[str, list[FileProblem]] = {}
    versions = 0
    with steward.db.read() as session:
        rows = session.execute(
            select(Model.name, ModelVersion.version, ModelVersion.files)
            .join(Model, Model.id == ModelVersion.model_id)
            .order_by(Model.name, ModelVersion.version)
            .execution_options(yield_per=1000)
        )
        for model, version, files in rows:
            versions += 1
            for entry in files or []:
                problem = FileProblem(model, version, str(entry["name"]), str(entry["sha256"]))
                by_blob.setdefault(problem.sha256, []).append(problem)
    return versions, by_blob


def _known_blobs(steward: Steward) -> set[str]:
    with steward.db.read() as session:
        return set(session.scalars(select(Blob.sha256).execution_options(yield_per=10_000)))


def _stored_blobs(store: ArtifactStore) -> dict[str, str]:
    """sha256 -> path of every blob file in the store."""
    found: dict[str, str] = {}
    for path in store.fs.find(f"{store.root}/blobs"):
        name = str(path).rsplit("/", 1)[-1]
        if _SHA256.fullmatch(name):
            found[name] = str(path)
    return found


def _stale_staging(store: ArtifactStore, grace_s: float) -> int:
    cutoff = time.time() - grace_s
    return sum(
        1
        for path in store.fs.find(f"{store.root}/staging")
        if store.fs.modified(path).timestamp() < cutoff
    )


def run_fsck(
    steward: Steward,
    *,
    gc: bool = False,
    grace_s: float = 3600,
    progress: Progress | None = None,
) -> FsckReport:
    """Check everything; with ``gc`` also remove old orphans and staging files."""
    store = steward.artifacts
    versions, by_blob = _version_files(steward)
    known = _known_blobs(steward)
    total, done = len(by_blob) + len(known), 0
    missing: list[FileProblem] = []
    corrupt: list[FileProblem] = []
    present: dict[str, bool] = {}
    for sha256, uses in by_blob.items():
        present[sha256] = store.exists(sha256)
        if not present[sha256]:
            missing.extend(uses)
        elif not store.verify(sha256):
            corrupt.extend(uses)
        done += 1
        if progress:
            progress(done, total)
    missing_blobs: list[str] = []
    for sha256 in sorted(known):
        if not (present[sha256] if sha256 in present else store.exists(sha256)):
            missing_blobs.append(sha256)
        done += 1
        if progress:
            progress(done, total)
    with steward.db.read() as session:
        chain = verify_chain(session)
    referenced = known | set(by_blob)
    stored = _stored_blobs(store)
    orphans = {sha: path for sha, path in sorted(stored.items()) if sha not in referenced}
    stale = _stale_staging(store, grace_s)
    collected_blobs = collected_staging = 0
    if gc:
        collected_blobs = _collect_orphans(steward, orphans, grace_s)
        collected_staging = store.collect_staging(older_than_s=grace_s)
    return FsckReport(
        versions_checked=versions,
        files_checked=sum(len(uses) for uses in by_blob.values()),
        blobs_checked=len(known),
        missing=tuple(missing),
        corrupt=tuple(corrupt),
        missing_blobs=tuple(missing_blobs),
        audit=AuditCheck(chain.checked, chain.broken_at, chain.reason),
        orphan_blobs=tuple(orphans),
        stale_staging=stale,
        collected_blobs=collected_blobs,
        collected_staging=collected_staging,
    )


def _collect_orphans(steward: Steward, orphans: dict[str, str], grace_s: float) -> int:
    """Delete orphans older than the grace period, re-checking each against the database."""
    removed, cutoff = 0, time.time() - grace_s
    for sha256, path in orphans.items():
        try:
            if steward.artifacts.fs.modified(path).timestamp() > cutoff:
                continue
        except FileNotFoundError:
            continue  # removed meanwhile
        with steward.db.read() as session:
            if session.get(Blob, sha256) is not None:
                continue  # registered since the scan started
        steward.artifacts.delete(sha256)
        removed += 1
    return removed
