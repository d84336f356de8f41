"""JSON for the serving path: orjson where it can, the standard library where only it can.

orjson parses and writes an order of magnitude faster than ``json``, and writes NumPy
arrays without a ``tolist`` first. The standard library stays as the fallback so that
nothing that was accepted before is refused now: ``NaN`` and ``Infinity`` literals,
numbers beyond 64 bits, UTF-16 bodies and non-text keys.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson

from modelsteward.errors import BadRequest

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME


def loads(raw: bytes | str) -> Any:
    """Parse a JSON body; raises ``ValueError`` or ``RecursionError`` when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def parse_body(raw: bytes | str) -> Any:
    """A request body's JSON, or ``BadRequest`` when it is not JSON (or nests too deeply)."""
    try:
        return loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON (or is nested too deeply)") from None


def plain(value: Any) -> Any:
    """What JSON makes of a value it has no type for: NumPy to Python, anything else text."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def dumps(value: Any) -> bytes:
    """Compact JSON; NaN becomes ``null`` (orjson) unless only ``json`` can write the value."""
    try:
        return orjson.dumps(value, default=plain, option=_OPTIONS)
    except TypeError:  # text arrays, integers past 64 bits, non-text keys
        return json.dumps(value, default=plain, separators=(",", ":")).encode()
