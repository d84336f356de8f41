"""Opening and naming files on any fsspec filesystem, shared by readers and writers."""

from __future__ import annotations

from typing import Any, Literal

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem


def open_file(fs: Any, path: str, mode: Literal["rb", "wb"]) -> Any:
    """Arrow's own file on a local disk (no Python in its I/O loop), else fsspec's."""
    if isinstance(fs, LocalFileSystem):
        return pa.OSFile(path, mode[0])
    return fs.open(path, mode)


def shown(url: str) -> str:
    """A URL as people wrote it: a plain path for local files."""
    fs, path = fsspec.core.url_to_fs(url)
    return str(path) if isinstance(fs, LocalFileSystem) else url
