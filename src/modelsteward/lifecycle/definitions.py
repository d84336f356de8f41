"""Reading and checking life cycle definitions, with errors that name the line.

``parse_definition`` turns YAML (or JSON) text into a ``LifecycleSpec`` or raises one
``InvalidInput`` listing every problem, each with its line, path and message: bad
YAML, the wrong shape, then the rules of ``lifecycle.soundness``. ``validate_definition``
applies those rules to a spec built in code. Input is bounded: 256 KiB of text,
and a YAML document whose anchors and aliases expand past ``MAX_NODES`` nodes is
refused before anything is built from it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from modelsteward.errors import InvalidInput
from modelsteward.lifecycle.soundness import Loc, problems
from modelsteward.lifecycle.spec import APPROVAL_GATE_TAG, CHECK_GATE_TAG, LifecycleSpec

MAX_BYTES = 256 * 1024
MAX_NODES = 50_000
MAX_REPORTED = 100
# Error locations name fields as the model does; these name them as the document does.
_TAGS = {CHECK_GATE_TAG}
_ALIASES = {"from_": "from", APPROVAL_GATE_TAG: "approval"}


def _invalid(errors: list[dict[str, Any]]) -> InvalidInput:
    errors = sorted(errors, key=lambda e: (e["line"] is None, e["line"] or 0))[:MAX_REPORTED]
    first = errors[0]
    where = f"line {first['line']}: " if first["line"] is not None else ""
    path = f"{first['path']}: " if first["path"] else ""
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return InvalidInput(
        f"invalid life cycle definition: {where}{path}{first['message']}{more}",
        details={"errors": errors},
    )


def _one(message: str, line: int | None = None) -> InvalidInput:
    return _invalid([{"line": line, "path": "", "message": message}])


def path_text(loc: Loc) -> str:
    """``("transitions", 0, "gates", 1, "role")`` -> ``transitions[0].gates[1].role``."""
    text = ""
    for part in loc:
        if part in _TAGS:
            continue
        part = _ALIASES.get(str(part), part) if isinstance(part, str) else part
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """The line (1-based) of the deepest node of ``root`` that ``loc`` reaches."""
    if root is None:
        return None
    node = root
    for part in loc:
        if part in _TAGS:
            continue
        key = _ALIASES.get(part, part) if isinstance(part, str) else part
        child = _child(node, key)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _child(node: yaml.Node, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        return node.value[key] if 0 <= key < len(node.value) else None
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if key_node.value == str(key):
            return key_node if isinstance(value_node, yaml.ScalarNode) else value_node
    return None


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded (stops past the cap)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    visiting: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        kids = _children(node)
        if children_done:
            visiting.discard(id(node))
            sizes[id(node)] = min(MAX_NODES + 1, 1 + sum(sizes[id(k)] for k in kids))
            continue
        if id(node) in visiting:
            raise _one("the document refers to itself through an alias", _line(node))
        visiting.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _duplicate_keys(root: yaml.Node) -> list[dict[str, Any]]:
    found, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value in keys:
                    message = f"key {key_node.value[:40]!r} appears twice in one mapping"
                    found.append({"line": _line(key_node), "path": "", "message": message})
                keys.add(str(key_node.value))
        stack.extend(_children(node))
    return found


def _yaml_reason(exc: yaml.MarkedYAMLError) -> str:
    return ", ".join(part for part in (exc.context, exc.problem) if part) or "unreadable"


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise _one(f"malformed YAML: {_yaml_reason(exc)}", line) from None
    except yaml.YAMLError as exc:
        raise _one(f"malformed YAML: {exc}") from None
    except RecursionError:
        raise _one("the document is nested too deeply") from None


def _load(text: str, fmt: Literal["yaml", "json"]) -> tuple[Any, yaml.Node | None]:
    """The document's data and, where the text allows, its node tree for line numbers."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _one(f"malformed JSON: {exc.msg}", exc.lineno) from None
        except RecursionError:
            raise _one("the document is nested too deeply") from None
        try:  # JSON is (nearly) YAML: reuse its marks to name lines, when it composes
            return data, yaml.compose(text, Loader=yaml.SafeLoader)
        except (yaml.YAMLError, RecursionError):
            return data, None
    root = _compose(text)
    if root is None:
        raise _one("the definition is empty", 1)
    if _expanded_size(root) > MAX_NODES:
        raise _one(f"the document has more than {MAX_NODES} nodes once its aliases are expanded")
    duplicates = _duplicate_keys(root)
    if duplicates:
        raise _invalid(duplicates)
    loader = yaml.SafeLoader(text)
    try:
        return loader.construct_document(root), root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise _one(f"malformed YAML: {_yaml_reason(exc)}", line) from None
    finally:
        loader.dispose()


def parse_definition(text: str | bytes, *, fmt: Literal["yaml", "json"] = "yaml") -> LifecycleSpec:
    """Read, shape-check and rule-check a definition; ``InvalidInput`` lists every problem."""
    if fmt not in ("yaml", "json"):
        raise InvalidInput(f"unknown definition format {str(fmt)[:20]!r}; use yaml or json")
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_BYTES:
        raise _one(f"the definition is larger than {MAX_BYTES // 1024} KiB")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _one(f"the definition is not UTF-8 text (byte {exc.start})") from None
    data, root = _load(source, fmt)
    if not isinstance(data, dict):
        raise _one(
            "the definition must be a mapping with name, initial, states and transitions",
            line_of(root, ()),
        )
    try:
        spec = LifecycleSpec.model_validate(data)
    except ValidationError as exc:
        raise _invalid(
            [
                {
                    "line": line_of(root, tuple(e["loc"])),
                    "path": path_text(tuple(e["loc"])),
                    "message": e["msg"].removeprefix("Value error, "),
                }
                for e in exc.errors(include_url=False)
            ]
        ) from None
    _raise_problems(problems(spec), root)
    return spec


def validate_definition(spec: LifecycleSpec) -> None:
    """Check a spec's rules; ``InvalidInput`` lists every problem (no lines: no text)."""
    _raise_problems(problems(spec), None)


def _raise_problems(found: list[tuple[Loc, str]], root: yaml.Node | None) -> None:
    if found:
        raise _invalid(
            [{"line": line_of(root, loc), "path": path_text(loc), "message": m} for loc, m in found]
        )
