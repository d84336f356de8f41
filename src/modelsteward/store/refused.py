"""Bytes stored for a request that is then refused are removed again.

An upload is stored before it is checked (the checks read the stored file: a pickle
without a trust decision, a zip bomb, a schema that does not match), so a refusal would
otherwise leave its bytes behind, and a writer could fill the disk with refused uploads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from modelsteward.context import Steward
from modelsteward.store.artifacts import StoredBlob
from modelsteward.store.tables import Blob


@contextmanager
def removed_if_refused(steward: Steward) -> Iterator[list[StoredBlob]]:
    """Collect the blobs stored inside the block; if the block fails, remove those it
    created that no row refers to (a concurrent registration of the same bytes keeps
    them), then let the failure go on."""
    stored: list[StoredBlob] = []
    try:
        yield stored
    except BaseException:
        discard_unreferenced(steward, stored)
        raise


def discard_unreferenced(steward: Steward, blobs: list[StoredBlob]) -> int:
    removed = 0
    for blob in blobs:
        if not blob.created:
            continue
        with steward.db.read() as session:
            if session.get(Blob, blob.sha256) is not None:
                continue
        removed += steward.artifacts.discard_created(blob)
    return removed
