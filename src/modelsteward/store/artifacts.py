"""Content-addressed artifact store on fsspec.

Bytes are streamed to a staging name while being hashed, checked against the size
limit and the expected hash, then renamed to ``blobs/<aa>/<bb>/<sha256>``. Storage
paths come only from hashes, never from names a user supplied. Content of at most
one chunk (1 MiB) is hashed and checked in memory first, so small files the store
already holds (a re-upload) are not written again.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from modelsteward.errors import IntegrityFailure, InvalidInput, NotFound, PayloadTooLarge
from modelsteward.store.filetimes import mark_fresh, modified_at

CHUNK = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    # When this call put a blob the store did not hold, the blob's write time (or None
    # where the store cannot tell); None also when the bytes were already stored.
    written_at: datetime | None = field(default=None, compare=False)
    created: bool = field(default=False, compare=False)


def _within_limit(size: int, max_bytes: int | None) -> int:
    if max_bytes is not None and size > max_bytes:
        raise PayloadTooLarge(f"artifact exceeds the limit of {max_bytes} bytes")
    return size


def _verified(sha256: str, expected_sha256: str | None) -> str:
    if expected_sha256 is not None and expected_sha256.lower() != sha256:
        raise IntegrityFailure(f"hash mismatch: expected {expected_sha256[:80]}, received {sha256}")
    return sha256


def check_sha256(value: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InvalidInput(f"not a sha256 hex digest: {str(value)[:80]!r}")
    return value


class ArtifactStore:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.root = self.root.rstrip("/")
        self.fs.makedirs(f"{self.root}/staging", exist_ok=True)
        self.fs.makedirs(f"{self.root}/blobs", exist_ok=True)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def _blob_path(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.root}/blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put_stream(
        self,
        chunks: Iterable[bytes],
        *,
        expected_sha256: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredBlob:
        """Store bytes; the blob becomes visible only once complete and verified."""
        stream = iter(chunks)
        head: list[bytes] = []
        size = 0
        for chunk in stream:
            head.append(chunk)
            size = _within_limit(size + len(chunk), max_bytes)
            if size > CHUNK:
                return self._put_staged(itertools.chain(head, stream), expected_sha256, max_bytes)
        data = b"".join(head)
        sha256 = _verified(hashlib.sha256(data).hexdigest(), expected_sha256)
        if self._refresh(self._blob_path(sha256)):
            return StoredBlob(sha256, size)
        return self._put_staged([data], sha256, max_bytes)

    def _put_staged(
        self, chunks: Iterable[bytes], expected_sha256: str | None, max_bytes: int | None
    ) -> StoredBlob:
        """Stream to a staging name while hashing, then rename it to its hash."""
        staging = f"{self.root}/staging/{uuid.uuid4().hex}"
        digest, size = hashlib.sha256(), 0
        try:
            with self.fs.open(staging, "wb") as out:
                for chunk in chunks:
                    size = _within_limit(size + len(chunk), max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
            sha256 = _verified(digest.hexdigest(), expected_sha256)
            final = self._blob_path(sha256)
            if self._refresh(final):
                self.fs.rm(staging)
            else:
                self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(staging, final)
                return StoredBlob(sha256, size, modified_at(self.fs, final), created=True)
            return StoredBlob(sha256, size)
        except BaseException:
            if self.fs.exists(staging):
                self.fs.rm(staging)
            raise

    def _refresh(self, final: str) -> bool:
        """Whether the blob is already stored; if so it is made fresh, so fsck --gc spares it."""
        if not self.fs.exists(final):
            return False
        mark_fresh(self.fs, final)  # where it cannot, gc's grace counts from the first upload
        return True

    def put_file(self, path: Path, **kwargs: Any) -> StoredBlob:
        with open(path, "rb") as handle:
            return self.put_stream(iter(lambda: handle.read(CHUNK), b""), **kwargs)

    def put_bytes(self, data: bytes, **kwargs: Any) -> StoredBlob:
        return self.put_stream([data], **kwargs)

    def local_path(self, sha256: str) -> Path | None:
        """Where a blob lies on this machine's file system; None for a remote store.

        Blobs are written once under their verified hash and never modified, so a
        reader that only inspects the bytes may use this path instead of a copy.
        """
        if not self.is_local:
            return None
        path = Path(self._blob_path(sha256))
        if not path.is_file():
            raise NotFound(f"artifact {sha256} is missing from the artifact store")
        return path

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self._blob_path(sha256)))

    def open(self, sha256: str) -> IO[bytes]:
        path = self._blob_path(sha256)
        if not self.fs.exists(path):
            raise NotFound(f"artifact {sha256} is missing from the artifact store")
        return self.fs.open(path, "rb")

    def iter_bytes(self, sha256: str) -> Iterator[bytes]:
        with self.open(sha256) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def copy_to(self, sha256: str, dest: Path) -> Path:
        """Write a blob to a local file, verifying its hash on the way."""
        digest = hashlib.sha256()
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as out:
            for chunk in self.iter_bytes(sha256):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            dest.unlink(missing_ok=True)
            raise IntegrityFailure(f"artifact {sha256} is corrupt in the artifact store")
        return dest

    def verify(self, sha256: str) -> bool:
        try:
            digest = hashlib.sha256()
            for chunk in self.iter_bytes(sha256):
                digest.update(chunk)
        except NotFound:
            return False
        return digest.hexdigest() == sha256

    def delete(self, sha256: str) -> None:
        path = self._blob_path(sha256)
        if self.fs.exists(path):
            self.fs.rm(path)

    def discard_created(self, blob: StoredBlob) -> bool:
        """Remove a blob that ``blob``'s upload created, for a request that was refused.

        A blob that was already stored is kept, and so is one another upload of the same
        bytes has refreshed since (its write time moved): that upload may still be
        registering it. The caller checks that no row refers to it."""
        if not blob.created:
            return False
        path = self._blob_path(blob.sha256)
        now = modified_at(self.fs, path)
        if now is None or (blob.written_at is not None and now != blob.written_at):
            return False
        self.fs.rm(path)
        return True

    def list_blobs(self) -> Iterator[str]:
        for path in self.fs.find(f"{self.root}/blobs"):
            name = str(path).rsplit("/", 1)[-1]
            if _SHA256.fullmatch(name):
                yield name

    def collect_staging(self, older_than_s: float = 3600.0) -> int:
        """Remove staged writes abandoned by crashed processes; returns how many."""
        removed, cutoff = 0, time.time() - older_than_s
        for path in self.fs.find(f"{self.root}/staging"):
            modified = self.fs.modified(path).timestamp()
            if modified < cutoff:
                self.fs.rm(path)
                removed += 1
        return removed
