"""The predefined life cycles shipped with modelsteward: read, checked, ready to assign.

Each lives in ``lifecycle/library/<name>.yaml`` and goes through ``parse_definition``
like any user's definition, so the library obeys the same rules it asks of others.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from modelsteward.errors import NotFound
from modelsteward.lifecycle.definitions import parse_definition
from modelsteward.lifecycle.spec import LifecycleSpec

LIBRARY = ("standard", "regulated", "champion-challenger", "retirement")


def library_text(name: str) -> str:
    """The YAML source of a predefined life cycle, comments included."""
    if name not in LIBRARY:
        raise NotFound(
            f"no predefined life cycle {name[:64]!r}; choose one of {', '.join(LIBRARY)}"
        )
    return files("modelsteward.lifecycle").joinpath("library", f"{name}.yaml").read_text("utf-8")


@cache
def _parsed() -> dict[str, LifecycleSpec]:
    specs = {name: parse_definition(library_text(name)) for name in LIBRARY}
    for name, spec in specs.items():
        if spec.name != name:
            raise ValueError(f"library file {name}.yaml defines {spec.name!r}")
    return specs


def load_library() -> dict[str, LifecycleSpec]:
    """Every predefined life cycle by name (specs are frozen; the dict is a copy)."""
    return dict(_parsed())
