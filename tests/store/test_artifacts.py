"""The content-addressed artifact store works on any fsspec URL, not just a local folder."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest

from modelsteward.errors import IntegrityFailure, InvalidInput, PayloadTooLarge
from modelsteward.store.artifacts import CHUNK, ArtifactStore


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path) -> ArtifactStore:  # type: ignore[no-untyped-def]
    url = (
        str(tmp_path / "a") if request.param == "local" else f"memory://steward-{uuid.uuid4().hex}"
    )
    return ArtifactStore(url)


def test_bytes_are_stored_under_their_hash_and_read_back(store: ArtifactStore) -> None:
    data = b"model bytes" * 1000
    blob = store.put_stream(iter([data[:5000], data[5000:]]))
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    assert b"".join(store.iter_bytes(blob.sha256)) == data
    assert list(store.list_blobs()) == [blob.sha256] and store.verify(blob.sha256)


def test_a_wrong_expected_hash_leaves_nothing_behind(store: ArtifactStore) -> None:
    with pytest.raises(IntegrityFailure):
        store.put_bytes(b"abc", expected_sha256="0" * 64)
    assert list(store.list_blobs()) == []
    assert store.fs.find(f"{store.root}/staging") == []


def test_the_size_limit_stops_the_stream(store: ArtifactStore) -> None:
    with pytest.raises(PayloadTooLarge):
        store.put_stream(iter([b"x" * 600, b"x" * 600]), max_bytes=1000)
    assert list(store.list_blobs()) == []


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "a" * 63, "G" * 64, "../" + "a" * 61])
def test_paths_come_only_from_hashes(store: ArtifactStore, hostile: str) -> None:
    with pytest.raises(InvalidInput):
        store.open(hostile)


def test_content_already_stored_is_not_written_again(store: ArtifactStore) -> None:
    data = b"model bytes" * 1000
    first = store.put_bytes(data)
    staged_during_upload: list[str] = []

    def upload() -> Iterator[bytes]:
        yield data
        staged_during_upload.extend(store.fs.find(f"{store.root}/staging"))

    assert store.put_stream(upload()) == first
    assert staged_during_upload == [] and list(store.list_blobs()) == [first.sha256]
    assert store.verify(first.sha256)


def test_content_larger_than_a_chunk_is_streamed_and_checked(store: ArtifactStore) -> None:
    data = bytes(range(256)) * (CHUNK * 5 // 2 // 256)
    pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    with pytest.raises(IntegrityFailure):
        store.put_stream(iter(pieces), expected_sha256="0" * 64)
    with pytest.raises(PayloadTooLarge):
        store.put_stream(iter(pieces), max_bytes=2 * CHUNK)
    assert list(store.list_blobs()) == [] and store.fs.find(f"{store.root}/staging") == []
    blob = store.put_stream(iter(pieces), expected_sha256=hashlib.sha256(data).hexdigest())
    assert blob.size == len(data) and b"".join(store.iter_bytes(blob.sha256)) == data
