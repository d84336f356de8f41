"""Load a registered version into memory, in the caller's process.

Files are copied to a hash-verified local cache first. A flavor that can run code
(pickle, plain Python) loads only when the version carries a granted trust decision.
This is never called from an API request handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelsteward.context import Steward
from modelsteward.errors import UntrustedArtifact
from modelsteward.registry.flavors.base import get_flavor
from modelsteward.registry.materialize import main_model_file, materialize
from modelsteward.registry.versions import get_version


def load_model(steward: Steward, model_name: str, ref: str | int) -> Any:
    view = get_version(steward, model_name, ref)
    flavor = get_flavor(view.flavor)
    if flavor.needs_trust and not (view.trust or {}).get("granted_by"):
        raise UntrustedArtifact(
            f"{model_name} v{view.version} ({view.flavor}) can run arbitrary code and has no "
            "granted trust decision; a risk manager can grant it with "
            f"'steward models trust {model_name} {view.version} --reason ...'"
        )
    files = [f.model_dump() for f in view.files]
    cache = Path(steward.settings.home) / "cache" / view.content_hash
    placed = materialize(steward.artifacts, files, cache)
    return flavor.load(
        placed[main_model_file(files)["name"]], steward.settings, view.metadata.get("flavor", {})
    )
