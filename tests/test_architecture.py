"""The never-rules of docs/architecture.md, read from every module's imports.

Every ``import`` and ``from ... import`` counts wherever it stands: at the top, inside a
function, or under ``if TYPE_CHECKING:``. A type-only import still couples the layers
(the annotation names the other layer's class, and mypy follows it), so it obeys the
same rules; code that needs another layer's type should take a protocol instead.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "modelsteward"

FOUNDATION = {
    "audit",
    "config",
    "context",
    "errors",
    "events",
    "identity",
    "ids",
    "jobs",
    "names",
    "plugins",
    "profiles",
    "scheduler",
    "store",
}
SERVICES = {"registry", "lifecycle", "serving", "monitoring", "alerting", "training", "governance"}
# Interfaces, and the composition roots that wire services together like an interface
# does: ``background`` runs the registered jobs and the cluster's event dispatcher, and
# installs the life cycle library first (``lifecycle.store.ensure_library``); the package
# root re-exports the SDK (``modelsteward.Client``) and ``__main__`` runs the CLI.
INTERFACES = {"api", "web", "cli", "sdk", "demo", "background", "__init__", "__main__"}
WEB_FRAMEWORKS = {"fastapi", "starlette", "uvicorn"}

NEVER: dict[str, tuple[set[str], str]] = {
    "monitoring": (
        {"lifecycle", "alerting", "training"},
        "monitoring imports neither the life cycle, alerting nor training: it reports, "
        "and reactions subscribe to its events",
    ),
    "registry": (
        {"serving", "monitoring", "governance"},
        "the registry imports neither serving, monitoring nor governance",
    ),
    "serving": (
        {"governance"},
        "serving does not import governance: governance registers guards into it",
    ),
    "lifecycle": (
        {"governance"},
        "the life cycle does not import governance: governance registers checks into it",
    ),
}

# Forbidden imports that stay for now, each with its reason. Empty: keep it so.
ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # modelsteward.registry.versions
    line: int
    target: str  # modelsteward.governance.identity, fastapi, ...


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str) -> list[Import]:
    """Every import in the file, relative ones resolved against ``module``'s package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(Import(module, node.lineno, target))
    return found


def part_of(module: str) -> str:
    """The top-level folder or module of modelsteward that ``module`` lies in."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(part: str) -> str:
    for layer, parts in (
        ("foundation", FOUNDATION),
        ("service", SERVICES),
        ("interface", INTERFACES),
    ):
        if part in parts:
            return layer
    raise AssertionError(
        f"modelsteward.{part} is in no layer: add it to tests/test_architecture.py"
    )


def broken_rule(found: Import) -> str | None:
    source = part_of(found.module)
    root = found.target.split(".")[0]
    if root in WEB_FRAMEWORKS and layer_of(source) != "interface":
        return f"only interfaces import a web framework ({root})"
    if root != "modelsteward":
        return None
    target = part_of(found.target)
    if target == source or found.target == "modelsteward" and source == "__init__":
        return None
    source_layer, target_layer = layer_of(source), layer_of(target)
    if source_layer == "foundation" and target_layer != "foundation":
        return f"the foundation imports no {target_layer} ({target})"
    if source_layer == "service" and target_layer == "interface":
        return f"no service imports an interface ({target})"
    forbidden, rule = NEVER.get(source, (set(), ""))
    return rule if target in forbidden else None


def all_imports() -> list[Import]:
    return [
        found
        for path in sorted(SRC.rglob("*.py"))
        for found in imports_of(path, _module_name(path))
    ]


def test_every_module_lies_in_a_layer() -> None:
    parts = {part_of(_module_name(path)) for path in SRC.rglob("*.py")}
    for part in parts:
        layer_of(part)


def test_no_module_imports_what_its_layer_must_never_import() -> None:
    broken = []
    for found in all_imports():
        rule = broken_rule(found)
        if rule and (found.module, found.target) not in ALLOWED:
            broken.append(f"{found.module}:{found.line} imports {found.target}: {rule}")
    assert not broken, "\n".join(broken)


def test_the_allow_list_names_only_imports_that_still_exist() -> None:
    present = {(found.module, found.target) for found in all_imports()}
    assert not set(ALLOWED) - present


def test_the_rules_catch_imports_inside_functions_and_type_checking_blocks(
    tmp_path: Path,
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from modelsteward.lifecycle.engine import Engine\n"
        "def f():\n    from ..alerting import rules\n"
    )
    imports = imports_of(probe, "modelsteward.monitoring.probe")
    assert [found.target for found in imports] == [
        "typing",
        "modelsteward.lifecycle.engine",
        "modelsteward.alerting",
    ]
    rules = [broken_rule(found) for found in imports]
    assert rules[0] is None and rules[1] == rules[2] == NEVER["monitoring"][1]
