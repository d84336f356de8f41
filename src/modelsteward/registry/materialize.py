"""Lay a version's files out in a local folder, by their validated relative names."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.names import check_relative_file_name
from modelsteward.store.artifacts import ArtifactStore


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def safe_join(root: Path, relative: str) -> Path:
    check_relative_file_name(relative)
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise InvalidInput(f"file name {relative[:60]!r} escapes its folder")
    return target


def materialize(store: ArtifactStore, files: list[dict[str, Any]], root: Path) -> dict[str, Path]:
    """Copy each file (hash-verified) under ``root``; returns name -> local path."""
    placed: dict[str, Path] = {}
    for entry in files:
        target = safe_join(root, entry["name"])
        if not target.exists() or file_sha256(target) != entry["sha256"]:
            store.copy_to(entry["sha256"], target)
        placed[entry["name"]] = target
    return placed


def main_model_file(files: list[dict[str, Any]]) -> dict[str, Any]:
    return next(f for f in files if f["role"] == "model")
