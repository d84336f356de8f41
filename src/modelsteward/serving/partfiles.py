"""Part files of the prediction log: how they are written, and which of them readers open.

Every part file is written under a hidden temporary name and renamed once complete.
Compaction (``serving/compaction.py``) adds ``part-compacted-<uuid>.parquet``, whose
Parquet key-value metadata lists the part files it replaces; those stay on disk for a
while for readers that listed the folder earlier, and ``part_files`` leaves them out,
so every reader sees each row exactly once (docs/serving-log.md#compaction).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

COMPACTED_PREFIX = "part-compacted-"
REPLACES_KEY = b"modelsteward.replaces"
COMPACTED_AT_KEY = b"modelsteward.compacted_at"
LISTING_ATTEMPTS = 3


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def write_atomically(
    fs: Any, directory: str, write: Callable[[IO[bytes]], None], *, prefix: str = "part-"
) -> str:
    """Write ``<prefix><uuid>.parquet`` under a hidden temporary name, then rename it.

    On a local disk the file is fsynced before the rename, so a crash leaves either the
    complete file or only the hidden ``.tmp`` one (which compaction removes later).
    """
    name = uuid.uuid4().hex
    tmp, final = f"{directory}/.{prefix}{name}.parquet.tmp", f"{directory}/{prefix}{name}.parquet"
    fs.makedirs(directory, exist_ok=True)
    try:
        if isinstance(fs, LocalFileSystem):
            with open(tmp, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        else:
            with fs.open(tmp, "wb") as out:
                write(out)
            fs.mv(tmp, final)
    except BaseException:
        with suppress(Exception):
            if fs.exists(tmp):
                fs.rm(tmp)
        raise
    return final


def write_parquet_atomically(
    fs: Any, directory: str, table: pa.Table, *, compression: str = "snappy"
) -> str:
    """Write one table as ``part-<uuid>.parquet`` (see ``write_atomically``)."""
    return write_atomically(
        fs, directory, lambda out: pq.write_table(table, out, compression=compression)
    )


def part_files(fs: Any, directory: str) -> list[str]:
    """The part files directly in ``directory`` that readers open, sorted.

    Temporary files are hidden, and a file that a compacted file of the same folder
    replaces is left out while it waits to be removed. A folder listed just as
    compaction removes a file it reads is listed again.
    """
    for attempt in range(LISTING_ATTEMPTS):
        try:
            return live_parts(fs, listed_parts(fs, directory))
        except FileNotFoundError:
            if attempt == LISTING_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def listed_parts(fs: Any, directory: str) -> list[str]:
    """Every complete ``part-*.parquet`` in ``directory``, replaced ones included."""
    if not fs.isdir(directory):
        return []
    return sorted(p for p in (str(p) for p in fs.ls(directory, detail=False)) if is_part(p))


def is_part(path: str) -> bool:
    """A complete part file's name (temporary files start with a dot)."""
    return basename(path).startswith("part-") and path.endswith(".parquet")


def live_parts(fs: Any, parts: list[str]) -> list[str]:
    """``parts`` without the files a compacted file among them replaces.

    Only a folder holding a compacted file beside other part files costs a footer read
    per compacted file (cached: part files never change once renamed into place).
    """
    compacted = [p for p in parts if basename(p).startswith(COMPACTED_PREFIX)]
    if not compacted or len(parts) == 1:
        return parts
    replaced: set[str] = set()
    for path in compacted:
        replaced |= replaced_by(fs, path)
    return [p for p in parts if basename(p) not in replaced]


def replaced_by(fs: Any, path: str) -> frozenset[str]:
    """Names of the part files that the compacted file at ``path`` replaces."""
    return _replaced_by(fs, path)


@lru_cache(maxsize=1024)
def _replaced_by(fs: Any, path: str) -> frozenset[str]:
    metadata = compacted_metadata(fs, path)
    return frozenset(json.loads(metadata.get(REPLACES_KEY, b"[]")))


def compacted_metadata(fs: Any, path: str) -> dict[bytes, bytes]:
    """The key-value metadata of a Parquet file's footer."""
    if isinstance(fs, LocalFileSystem):
        found = pq.read_metadata(path).metadata
    else:
        with fs.open(path, "rb") as source:
            found = pq.read_metadata(source).metadata
    return dict(found or {})
