"""What a model flavor is: how a kind of model file is saved, checked and loaded.

Flavors are found through the ``modelsteward.flavors`` entry point group; the built-ins
ship through the same door, so a third-party flavor is a package, not an edit here.
A flavor whose loading can run arbitrary code sets ``needs_trust``; such a version
loads only after an explicit, audited trust decision.

A flavor may also set ``self_contained = True`` (optional, False when absent) to say
that ``validate`` reads the main file and nothing else, whatever the file is called:
no sibling files, no meaning in the name beyond error messages. The registry then
checks a blob of a local artifact store where it lies instead of a copy laid out
under its uploaded name.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput

ENTRY_POINT_GROUP = "modelsteward.flavors"


@runtime_checkable
class Flavor(Protocol):
    name: str
    description: str
    needs_trust: bool

    def can_save(self, model: object) -> bool:
        """True when ``save`` knows how to serialise this in-memory object."""

    def save(self, model: object, directory: Path) -> list[Path]:
        """Write the model's file(s) into ``directory``; the first path is the main file."""

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        """Check a stored main file without running code from it; raise InvalidInput
        when it is truncated, corrupt or not of this flavor. Returns facts to record."""

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        """Load the main file into an object with ``predict``. ``meta`` is the flavor
        facts recorded at registration (e.g. module and class of a Python model)."""


@cache
def _discovered() -> dict[str, Flavor]:
    flavors: dict[str, Flavor] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        flavor = ep.load()()
        flavors[flavor.name] = flavor
    return flavors


def is_self_contained(flavor: Flavor) -> bool:
    """Whether ``validate`` needs only the main file (see the module doc)."""
    return getattr(flavor, "self_contained", False) is True


def available_flavors() -> dict[str, Flavor]:
    return dict(_discovered())


def get_flavor(name: str) -> Flavor:
    flavors = _discovered()
    if name not in flavors:
        known = ", ".join(sorted(flavors)) or "none installed"
        raise InvalidInput(f"unknown flavor {name[:40]!r}; known flavors: {known}")
    return flavors[name]


def flavor_for(model: object) -> Flavor:
    """Pick the flavor for a fitted in-memory model, safe formats first."""
    for flavor in sorted(_discovered().values(), key=lambda f: f.needs_trust):
        if flavor.can_save(model):
            return flavor
    raise InvalidInput(
        f"no flavor can save a {type(model).__module__}.{type(model).__name__}; "
        "pass flavor= explicitly or save it yourself and upload the file"
    )
