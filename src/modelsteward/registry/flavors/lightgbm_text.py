"""A pure-Python check of LightGBM's text model format, before LightGBM reads it.

LightGBM's parser trusts the file: a truncated file makes it read past the end of its
buffer or abort, and out-of-range child or feature indices are only noticed (if at all)
at prediction time. This check refuses such files with InvalidInput. It mirrors the
parts of ``GBDT::LoadModelFromString`` and ``Tree::Tree`` that index memory.
"""

from __future__ import annotations

from typing import Any

from modelsteward.errors import InvalidInput

_CATEGORICAL_MASK = 1


class _Bad(ValueError):
    """A structural problem; turned into InvalidInput with the file's name."""


def _key_values(lines: list[bytes]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in lines:
        if line.strip():
            key, sep, value = line.decode("utf-8").partition("=")
            if not sep:
                raise _Bad(f"line without '=': {line[:40]!r}")
            pairs[key] = value.strip()
    return pairs


def _ints(pairs: dict[str, str], key: str, count: int | None = None) -> list[int]:
    if key not in pairs:
        raise _Bad(f"missing {key}")
    try:
        values = [int(v) for v in pairs[key].split()]
    except ValueError as exc:
        raise _Bad(f"{key} is not a list of integers") from exc
    if count is not None and len(values) != count:
        raise _Bad(f"{key} has {len(values)} values, expected {count}")
    return values


def _count(pairs: dict[str, str], key: str, count: int) -> None:
    if len(pairs.get(key, "").split()) != count:
        raise _Bad(f"{key} must have {count} values")


def _check_links(left: list[int], right: list[int], leaves: int) -> None:
    """Every node is reached from the root exactly once, so prediction ends."""
    seen_nodes, seen_leaves, stack = {0}, set(), [0]
    while stack:
        node = stack.pop()
        for child in (left[node], right[node]):
            if child >= 0:
                if child >= leaves - 1 or child in seen_nodes:
                    raise _Bad("tree nodes do not form a tree")
                seen_nodes.add(child)
                stack.append(child)
            elif ~child >= leaves or ~child in seen_leaves:
                raise _Bad("tree leaves do not form a tree")
            else:
                seen_leaves.add(~child)
    if len(seen_nodes) != leaves - 1 or len(seen_leaves) != leaves:
        raise _Bad("tree has unreachable nodes")


def _check_tree(pairs: dict[str, str], features: int) -> None:
    leaves = _ints(pairs, "num_leaves", 1)[0]
    if leaves < 1:
        raise _Bad("num_leaves must be positive")
    _count(pairs, "leaf_value", leaves)
    if pairs.get("is_linear", "0") != "0":
        per_leaf = _ints(pairs, "num_features", leaves)
        used = _ints(pairs, "leaf_features", sum(per_leaf))
        _count(pairs, "leaf_const", leaves)
        _count(pairs, "leaf_coeff", sum(per_leaf))
        if any(not 0 <= f < features for f in used):
            raise _Bad("leaf_features out of range")
    if leaves == 1:
        return
    splits = leaves - 1
    split_feature = _ints(pairs, "split_feature", splits)
    decision = _ints(pairs, "decision_type", splits)
    _count(pairs, "threshold", splits)
    if any(not 0 <= f < features for f in split_feature):
        raise _Bad("split_feature out of range")
    _check_links(_ints(pairs, "left_child", splits), _ints(pairs, "right_child", splits), leaves)
    categories = _ints(pairs, "num_cat", 1)[0] if "num_cat" in pairs else 0
    if any(d & _CATEGORICAL_MASK for d in decision) or categories:
        bounds = _ints(pairs, "cat_boundaries", categories + 1)
        cat_words = len(pairs.get("cat_threshold", "").split())
        if bounds[0] != 0 or bounds != sorted(bounds) or bounds[-1] != cat_words:
            raise _Bad("cat_boundaries do not match cat_threshold")
        for d, t in zip(decision, pairs["threshold"].split(), strict=True):
            if d & _CATEGORICAL_MASK and not _is_index(t, categories):
                raise _Bad("categorical threshold out of range")


def _is_index(text: str, limit: int) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value.is_integer() and 0 <= value < limit


def check_lightgbm_text(data: bytes, name: str) -> dict[str, Any]:
    """Raise InvalidInput unless ``data`` is a complete, consistent LightGBM text model."""
    try:
        return _check(data)
    except (_Bad, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{name} is not a complete LightGBM text model: {exc}") from exc


def _check(data: bytes) -> dict[str, Any]:
    if not data.startswith(b"tree\n") and not data.startswith(b"tree\r\n"):
        raise _Bad("it does not start with 'tree'")
    start = data.find(b"\nTree=")
    if start < 0:
        raise _Bad("no trees")
    header = _key_values(data[:start].splitlines()[1:])
    for key in ("num_class", "num_tree_per_iteration", "max_feature_idx"):
        if _ints(header, key, 1)[0] < (0 if key == "max_feature_idx" else 1):
            raise _Bad(f"{key} out of range")
    features = int(header["max_feature_idx"]) + 1
    _count(header, "feature_names", features)
    sizes = _ints(header, "tree_sizes")
    if not sizes or any(s <= 0 for s in sizes):
        raise _Bad("tree_sizes must be positive")
    if len(sizes) % int(header["num_tree_per_iteration"]):
        raise _Bad("tree count is not a multiple of num_tree_per_iteration")
    body, offset = data[start + 1 :], 0
    if sum(sizes) > len(body):
        raise _Bad("file is shorter than its tree_sizes say (truncated?)")
    for index, size in enumerate(sizes):
        block = body[offset : offset + size].splitlines()
        offset += size
        if not block or block[0].strip() != f"Tree={index}".encode():
            raise _Bad(f"tree {index} is not where tree_sizes put it")
        if b"" not in block:  # LightGBM reads a tree's lines up to a blank one
            raise _Bad(f"tree {index} does not end with a blank line")
        _check_tree(_key_values(block[1 : block.index(b"")]), features)
    tail = body[offset:]
    if not tail.lstrip(b"\r\n").startswith(b"end of trees"):
        raise _Bad("no 'end of trees' after the last tree (truncated?)")
    parameters = tail.find(b"\nparameters:")
    if parameters >= 0 and tail.find(b"\nend of parameters", parameters) < 0:
        raise _Bad("no 'end of parameters' after the parameters (truncated?)")
    return {
        "num_trees": len(sizes),
        "num_features": features,
        "num_class": int(header["num_class"]),
        "objective": header.get("objective", "").split(" ")[0] or None,
    }
