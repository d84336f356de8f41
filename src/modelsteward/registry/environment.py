"""Capture the registering environment's Python version and installed packages."""

from __future__ import annotations

import platform
from importlib.metadata import distributions
from typing import Any


def capture_dependencies() -> dict[str, Any]:
    packages: dict[str, str] = {}
    for dist in distributions():
        name = dist.name
        if name and dist.version:
            packages[name.lower()] = dist.version[:64]
    return {"python": platform.python_version(), "packages": dict(sorted(packages.items()))}
