"""Plain Python models: a class with ``predict``, uploaded as source code.

Chosen explicitly (``flavor="python"``) for models that are code rather than fitted
weights: rules, wrappers around other libraries, heuristics. The main file is the
version's ``model`` file; helper modules are uploaded next to it with role ``source``.
``flavor_options`` name the module and class: ``{"module": "mymodel", "class":
"MyModel", "init_kwargs": {...}}``; without ``class``, the file's only class is used.

Loading imports the code, so it needs an explicit trust decision (``needs_trust`` is
True). Validation never runs it: it only parses the main file.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_import_lock = threading.Lock()


def _top_level_classes(source: str, name: str) -> dict[str, bool]:
    """Class name -> whether it defines ``predict`` itself."""
    try:
        tree = ast.parse(source, filename=name)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise InvalidInput(f"{name} is not valid Python: {exc}") from exc
    return {
        node.name: any(
            isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == "predict"
            for item in node.body
        )
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


def _read_source(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from exc


def _module_file(main: Path, module: str | None) -> Path:
    if not module:
        return main
    if not isinstance(module, str) or not _MODULE_NAME.fullmatch(module):
        raise InvalidInput(f"module {str(module)[:60]!r} is not a Python module name")
    root = main.parent.resolve()
    target = (root / (module.replace(".", "/") + ".py")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise InvalidInput(f"module {module!r} is not among the uploaded files")
    return target


def _pick_class(classes: dict[str, bool], wanted: str | None, name: str) -> str:
    if wanted:
        if wanted not in classes:
            raise InvalidInput(f"{name} defines no class {wanted[:60]!r}")
        return wanted
    with_predict = [c for c, has in classes.items() if has]
    if len(with_predict) != 1:
        raise InvalidInput(f"{name}: name the model class with flavor_options 'class'")
    return with_predict[0]


def _import_isolated(file: Path) -> Any:
    """Import ``file`` under a fresh name; helpers next to it are importable only meanwhile."""
    folder = str(file.parent)
    unique = f"steward_model_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(unique, file)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{file.name} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    with _import_lock:
        before = set(sys.modules)
        sys.modules[unique] = module
        sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[unique]
            raise InvalidInput(
                f"importing {file.name} failed: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            sys.path.remove(folder)
            # Helpers stay referenced by the model, but leave the import cache, so another
            # version's helper of the same name is not mistaken for this one.
            for name in set(sys.modules) - before - {unique}:
                origin = getattr(sys.modules[name], "__file__", None)
                if origin and Path(origin).resolve().is_relative_to(file.parent.resolve()):
                    del sys.modules[name]
    return module


class PythonClassFlavor:
    name = "python"
    description = "a Python class with predict, uploaded as source (runs code: needs trust)"
    needs_trust = True
    self_contained = False  # helper modules are uploaded beside the main file

    def can_save(self, model: object) -> bool:
        return False  # source code is uploaded, not serialised from memory

    def save(self, model: object, directory: Path) -> list[Path]:
        raise InvalidInput("the python flavor takes uploaded source files; it cannot save objects")

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        classes = _top_level_classes(_read_source(path), path.name)
        if not classes:
            raise InvalidInput(f"{path.name} defines no class")
        return {
            "classes": sorted(classes),
            "classes_with_predict": sorted(c for c, has in classes.items() if has),
        }

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        file = _module_file(path, meta.get("module"))
        classes = _top_level_classes(_read_source(file), file.name)
        class_name = _pick_class(classes, meta.get("class"), file.name)
        kwargs = meta.get("init_kwargs") or {}
        if not isinstance(kwargs, dict):
            raise InvalidInput("init_kwargs must be a mapping")
        module = _import_isolated(file)
        model = getattr(module, class_name)(**kwargs)
        if not callable(getattr(model, "predict", None)):
            raise InvalidInput(f"{class_name} has no predict method")
        return model
