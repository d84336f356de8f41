"""The Python version and packages an MLflow model declares, as our ``Dependencies``.

MLflow writes the same facts up to three times: ``requirements.txt`` (pip pins),
``python_env.yaml`` (Python version) and ``conda.yaml`` (both). The most specific one
present wins; direct references (``pkg @ https://...``) and pip options are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from modelsteward.errors import InvalidInput

MAX_YAML_BYTES = 1024 * 1024
MAX_PACKAGES = 500
MAX_REQUIREMENTS_BYTES = 256 * 1024
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,127})(\[[^\]]*\])?\s*([^;]*)")
_CONDA_PYTHON = re.compile(r"^python\s*=?=\s*([0-9][0-9.]*)")


def read_yaml(path: Path, what: str) -> dict[str, Any]:
    """A small YAML mapping, parsed without constructing Python objects."""
    if path.stat().st_size > MAX_YAML_BYTES:
        raise InvalidInput(f"{what} is larger than {MAX_YAML_BYTES // 1024} KiB")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} is not valid YAML") from exc
    if not isinstance(document, dict):
        raise InvalidInput(f"{what} must be a YAML mapping")
    return document


def _requirement(line: str) -> tuple[str, str] | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-") or "@" in line or "://" in line:
        return None
    match = _REQUIREMENT.match(line)
    if match is None:
        return None
    name, spec = match.group(1), match.group(3).strip().replace(" ", "")
    version = spec[2:] if spec.startswith("==") and "," not in spec else spec
    return (name, version) if len(version) <= 64 else None


def _packages(lines: list[object]) -> dict[str, str]:
    packages: dict[str, str] = {}
    for line in lines:
        parsed = _requirement(line) if isinstance(line, str) else None
        if parsed:
            packages[parsed[0]] = parsed[1]
        if len(packages) > MAX_PACKAGES:
            raise InvalidInput(f"an MLflow model may declare at most {MAX_PACKAGES} packages")
    return packages


def _conda(document: dict[str, Any]) -> tuple[str | None, list[object]]:
    python: str | None = None
    pip: list[object] = []
    entries = document.get("dependencies")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str) and (match := _CONDA_PYTHON.match(entry.strip())):
            python = match.group(1)
        elif isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            pip = entry["pip"]
    return python, pip


def read_dependencies(present: dict[str, Path], fallback_python: object) -> dict[str, Any]:
    """``{"python": ..., "packages": {name: version}}`` from the model's environment files."""
    python: str | None = None
    pip_lines: list[object] = []
    if "conda.yaml" in present:
        python, pip_lines = _conda(read_yaml(present["conda.yaml"], "conda.yaml"))
    if "python_env.yaml" in present:
        declared = read_yaml(present["python_env.yaml"], "python_env.yaml").get("python")
        python = str(declared) if declared is not None else python
    if "requirements.txt" in present:
        data = present["requirements.txt"].read_bytes()
        if len(data) > MAX_REQUIREMENTS_BYTES:
            raise InvalidInput("requirements.txt is too large")
        pip_lines = list(data.decode("utf-8", errors="replace").splitlines())
    if python is None and fallback_python is not None:
        python = str(fallback_python)
    return {
        "python": python[:32] if python else None,
        "packages": _packages(pip_lines),
    }
