"""Read an MLflow model directory (``MLmodel`` and its files) into a version to register.

MLflow itself is not needed: the ``MLmodel`` YAML names the flavor, the model file, the
signature and the environment files. Supported are scikit-learn models (skops ->
our ``sklearn`` flavor; pickle/cloudpickle -> ``pickle``, which needs trust) and pyfunc
models (``mlflow.sklearn`` loader, or a pickled custom ``python_model`` -> ``pickle``).
The directory is untrusted input: every path it names, and every file in it, must stay
inside it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from modelsteward.errors import InvalidInput
from modelsteward.names import check_relative_file_name
from modelsteward.registry.flavors.base import get_flavor
from modelsteward.registry.mlflow_env import read_dependencies, read_yaml
from modelsteward.registry.specs import SchemaSpec

MAX_FILES = 255
MAX_YAML_NODES = 10_000
# Keys of MLmodel flavor sections whose values are paths inside the model directory.
_PATH_KEYS = {"pickled_model", "model_path", "data", "python_model", "code", "env", "path"}
_COLUMN_TYPES = {
    "boolean": "boolean",
    "integer": "integer",
    "long": "integer",
    "float": "float",
    "double": "float",
    "string": "string",
    "binary": "binary",
    "datetime": "datetime",
}


@dataclass(frozen=True)
class MlflowModel:
    flavor: str
    files: list[tuple[str, str, Path]]  # (role, relative name, local path); model first
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    dependencies: dict[str, Any]
    metadata: dict[str, Any]
    needs_trust: bool


def inside(root: Path, relative: object) -> Path:
    """``root / relative`` resolved, refusing absolute paths, '..' and symlinks out."""
    if not isinstance(relative, str) or not relative.strip():
        raise InvalidInput(f"MLmodel names an invalid path {str(relative)[:60]!r}")
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if relative.startswith(("/", "\\", "~")) or ":" in parts[0] or ".." in parts:
        raise InvalidInput(f"MLmodel path {relative[:60]!r} must stay inside the model folder")
    target = _resolved(root / relative)
    if not target.is_relative_to(root):
        raise InvalidInput(f"MLmodel path {relative[:60]!r} leads outside the model folder")
    return target


def _declared_paths(flavors: dict[str, Any]) -> list[object]:
    """Values of path keys anywhere in the flavor sections (YAML aliases counted each time)."""
    found: list[object] = []
    stack: list[tuple[object, int]] = [(flavors, 0)]
    for visited in range(MAX_YAML_NODES + 1):
        if not stack:
            return found
        node, depth = stack.pop()
        if depth > 16 or visited == MAX_YAML_NODES:
            raise InvalidInput("MLmodel is nested too deeply or too large")
        pairs = node.items() if isinstance(node, dict) else enumerate(node)  # type: ignore[arg-type]
        for key, value in pairs:
            if isinstance(value, dict | list):
                stack.append((value, depth + 1))
            elif key in _PATH_KEYS and value is not None:
                found.append(value)
    return found


def _resolved(entry: Path) -> Path:
    try:
        return entry.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # link loops, NUL bytes
        raise InvalidInput(f"{entry.name[:60]!r} cannot be resolved") from exc


def _directory_files(root: Path) -> dict[str, Path]:
    """Every regular file under ``root`` by relative name; refuses links that leave it."""
    files: dict[str, Path] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            entry = Path(folder) / name
            if entry.is_symlink() and not _resolved(entry).is_relative_to(root):
                raise InvalidInput(f"{entry.relative_to(root)} is a link leading outside")
        for name in names:
            entry = Path(folder) / name
            target = _resolved(entry)
            if not target.is_file():  # also a broken link, a FIFO or a device
                raise InvalidInput(f"{entry.relative_to(root)} is not a regular file")
            relative = entry.relative_to(root).as_posix()
            files[check_relative_file_name(relative)] = target
            if len(files) > MAX_FILES:
                raise InvalidInput(f"an MLflow model may hold at most {MAX_FILES} files")
    return files


def _flavor_and_model(flavors: dict[str, Any]) -> tuple[str, object]:
    sk, pyfunc = flavors.get("sklearn"), flavors.get("python_function")
    if isinstance(sk, dict):
        kind = sk.get("serialization_format", "cloudpickle")
        if kind not in ("skops", "pickle", "cloudpickle"):
            raise InvalidInput(f"sklearn serialization format {str(kind)[:40]!r} is not supported")
        return ("sklearn" if kind == "skops" else "pickle"), sk.get("pickled_model")
    if isinstance(pyfunc, dict):
        if pyfunc.get("loader_module") == "mlflow.sklearn":
            return "sniff", pyfunc.get("model_path")
        if pyfunc.get("python_model"):
            return "pickle", pyfunc.get("python_model")
    raise InvalidInput(
        "only MLflow sklearn models and pickled pyfunc models can be imported; "
        f"this model has flavors {sorted(map(str, flavors))[:10]}"
    )


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _column(spec: object, index: int, count: int) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise InvalidInput("MLmodel signature columns must be objects")
    kind = str(spec.get("type"))[:32]
    if kind == "tensor":
        tensor = _mapping(spec.get("tensor-spec"))
        default = "tensor" if count == 1 else f"tensor_{index}"
        column = {
            "name": str(spec.get("name") or default),
            "type": "tensor",
            "dtype": str(tensor.get("dtype"))[:32],
            "shape": tensor.get("shape") or [],
        }
    else:
        name = str(spec.get("name") if spec.get("name") is not None else index)
        column = {"name": name, "type": _COLUMN_TYPES.get(kind, "object"), "dtype": kind}
    if spec.get("required") is False:
        column["nullable"] = True
    return column


def convert_schema(raw: object, what: str) -> dict[str, Any] | None:
    """An MLflow signature part (a JSON string of column or tensor specs) as a SchemaSpec."""
    if raw is None:
        return None
    try:
        specs = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise InvalidInput(f"MLmodel signature {what} is not JSON") from exc
    if not isinstance(specs, list) or not specs:
        raise InvalidInput(f"MLmodel signature {what} must be a non-empty list")
    schema = {"columns": [_column(spec, i, len(specs)) for i, spec in enumerate(specs)]}
    try:
        valid = SchemaSpec.model_validate(schema)
    except ValidationError as exc:
        raise InvalidInput(f"MLmodel signature {what} is not a valid schema: {exc}") from exc
    return valid.model_dump(mode="json", exclude_defaults=True)


def read_mlflow_model(path: Path) -> MlflowModel:
    """What to register for the MLflow model in folder ``path``; InvalidInput if hostile."""
    root = path.resolve()
    if not root.is_dir():
        raise InvalidInput(f"{path} is not an MLflow model folder")
    if not (root / "MLmodel").is_file():
        raise InvalidInput(f"{path} has no MLmodel file")
    document = read_yaml(inside(root, "MLmodel"), "MLmodel")
    flavors = document.get("flavors")
    if not isinstance(flavors, dict):
        raise InvalidInput("MLmodel has no 'flavors' mapping")
    for declared in _declared_paths(flavors):
        inside(root, declared)
    present = _directory_files(root)
    flavor, model_name = _flavor_and_model(flavors)
    model_file = inside(root, model_name)
    if not model_file.is_file():
        raise InvalidInput(f"the model file {str(model_name)[:60]!r} is missing")
    if flavor == "sniff":  # skops files are zip archives; anything else is a pickle
        with model_file.open("rb") as handle:
            flavor = "sklearn" if handle.read(4) == b"PK\x03\x04" else "pickle"
    model_relative = model_file.relative_to(root).as_posix()
    files = [("model", model_relative, model_file)] + [
        ("extra", name, local) for name, local in sorted(present.items()) if name != model_relative
    ]
    signature = _mapping(document.get("signature"))
    pyfunc = _mapping(flavors.get("python_function"))
    facts = {
        k: document.get(k) for k in ("run_id", "model_uuid", "utc_time_created", "mlflow_version")
    }
    metadata = {k: None if v is None else str(v) for k, v in facts.items()}
    return MlflowModel(
        flavor=flavor,
        files=files,
        input_schema=convert_schema(signature.get("inputs"), "inputs"),
        output_schema=convert_schema(signature.get("outputs"), "outputs"),
        dependencies=read_dependencies(present, pyfunc.get("python_version")),
        metadata={"mlflow": {**metadata, "flavors": sorted(map(str, flavors))}},
        needs_trust=get_flavor(flavor).needs_trust,
    )
