"""A pipeline's code: where it lies, what it hashes to, and placing it for a run.

Uploaded code is one ``.py`` file or a ``.tar.gz`` folder in the artifact store
(content-addressed: its sha256 is its code hash). A local source (development) is hashed
when it is used, file by file, so a run records the code it actually ran.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from modelsteward.errors import InvalidInput
from modelsteward.store.artifacts import ArtifactStore
from modelsteward.training.specs import LocalSource, UploadedSource

SKIPPED = {"__pycache__", ".git", ".venv", ".mypy_cache", ".pytest_cache"}


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not SKIPPED & set(p.relative_to(root).parts)
    )


def tree_hash(root: Path) -> str:
    """sha256 over (relative name, content sha256) of each file, in name order."""
    digest = hashlib.sha256()
    for path in _files(root):
        name = path.name if root.is_file() else path.relative_to(root).as_posix()
        digest.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def code_hash(source: LocalSource | UploadedSource) -> str:
    if isinstance(source, UploadedSource):
        return source.sha256
    root = Path(source.path)
    if not root.exists():
        raise InvalidInput(f"source.path: {source.path} does not exist")
    return tree_hash(root)


def pack(root: Path) -> tuple[bytes, str]:
    """A folder as a reproducible ``.tar.gz`` (fixed times and owners), or a ``.py`` file."""
    if root.is_file():
        if root.suffix != ".py":
            raise InvalidInput(f"source: {root.name} is neither a .py file nor a folder")
        return root.read_bytes(), root.name
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path in _files(root):
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            data = path.read_bytes()
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), "source.tar.gz"


def place(artifacts: ArtifactStore, source: LocalSource | UploadedSource, folder: Path) -> Path:
    """Where the run imports from: the local path itself, or the upload unpacked."""
    if isinstance(source, LocalSource):
        return Path(source.path)
    if not artifacts.exists(source.sha256):
        raise InvalidInput(f"source.sha256: no uploaded source {source.sha256[:12]}...")
    folder.mkdir(parents=True, exist_ok=True)
    if source.name.endswith(".py"):
        artifacts.copy_to(source.sha256, folder / source.name)
        return folder
    with artifacts.open(source.sha256) as raw, tarfile.open(fileobj=raw, mode="r:gz") as archive:
        archive.extractall(folder, filter="data")
    return folder
