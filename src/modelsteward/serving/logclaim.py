"""An exclusive claim on one folder of the prediction log, across threads, processes and hosts.

Compaction rewrites an hour folder, so two compactors (two workers, two replicas, the
CLI beside the server) must never work on the same folder at once. On a local disk
the claim is an advisory ``flock`` on ``<folder>/.compact.lock``: the kernel drops it
when its holder dies, so a crash never leaves a folder claimed, and the holder removes
the file as it lets go. On other fsspec stores the claim is that file created with the
exclusive mode ``"xb"``: it holds across hosts exactly as far as the backend makes that
mode atomic (docs/serving-log.md#compaction), and a claim older than ``STALE_CLAIM``
is taken to be a crashed holder's.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from modelsteward.store.filetimes import modified_at

CLAIM_NAME = ".compact.lock"
STALE_CLAIM = timedelta(hours=1)


@contextmanager
def claim_folder(fs: Any, folder: str) -> Iterator[bool]:
    """Yields True while this caller holds ``folder``'s claim, False when another does."""
    path = f"{folder}/{CLAIM_NAME}"
    if isinstance(fs, LocalFileSystem):
        fd = _lock_local(path)
        if fd is None:
            yield False
            return
        try:
            yield True
        finally:
            with suppress(FileNotFoundError):
                os.unlink(path)  # still holding the lock: nobody can be using this file
            os.close(fd)
        return
    if not _create_remote(fs, path):
        yield False
        return
    try:
        yield True
    finally:
        with suppress(FileNotFoundError):
            fs.rm(path)


def _lock_local(path: str) -> int | None:
    """A descriptor holding the lock on the file now at ``path``; None when it is taken."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)  # its holder removed this file as it let go: lock the new one


def _create_remote(fs: Any, path: str) -> bool:
    owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"owner": owner, "at": datetime.now(UTC).isoformat()}).encode()
    for _ in range(2):
        try:
            with fs.open(path, "xb") as out:
                out.write(body)
            return True
        except FileExistsError:
            if not _stale(fs, path):
                return False
            with suppress(FileNotFoundError):
                fs.rm(path)
    return False


def _stale(fs: Any, path: str) -> bool:
    try:
        claimed = datetime.fromisoformat(json.loads(fs.cat_file(path))["at"])
    except FileNotFoundError:
        return True
    except (ValueError, KeyError, TypeError):  # unreadable: judge it by its age instead
        written = modified_at(fs, path)  # aware, or None when the store cannot tell
        return written is not None and datetime.now(UTC) - written > STALE_CLAIM
    if claimed.tzinfo is None:
        claimed = claimed.replace(tzinfo=UTC)
    return datetime.now(UTC) - claimed > STALE_CLAIM
