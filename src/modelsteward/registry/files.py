"""One file of a version, for downloading: looked up in the manifest, its bytes checked.

The name a caller asks for is matched against the version's manifest and never used as
a path; the bytes come from the content-addressed store by the entry's hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from modelsteward.context import Steward
from modelsteward.errors import NotFound
from modelsteward.registry.versions import get_version
from modelsteward.registry.views import FileView


@dataclass(frozen=True, eq=False)
class VersionFile:
    """A manifest entry and an iterator over its bytes (present when looked up)."""

    entry: FileView
    chunks: Iterator[bytes]


def version_file(steward: Steward, model_name: str, ref: str | int, file_name: str) -> VersionFile:
    """The file ``file_name`` of a version; ``NotFound`` for a name not in its manifest
    and for bytes missing from the artifact store (found before any byte is answered)."""
    view = get_version(steward, model_name, ref)
    entry = next((f for f in view.files if f.name == file_name), None)
    if entry is None:
        raise NotFound(f"{model_name} v{view.version} has no file {file_name[:80]!r}")
    if not steward.artifacts.exists(entry.sha256):
        raise NotFound(
            f"the bytes of {model_name} v{view.version} file {entry.name[:80]!r} are missing "
            f"from the artifact store (sha256 {entry.sha256}); restore them or re-register",
            details={"sha256": entry.sha256},
        )
    return VersionFile(entry, steward.artifacts.iter_bytes(entry.sha256))
