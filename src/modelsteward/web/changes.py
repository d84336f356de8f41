"""One-line summaries of audit events for people: what changed, from what, to what."""

from __future__ import annotations

import json
from typing import Any

MAX_VALUE = 48
MAX_PARTS = 3
# Left out of creation summaries: recorded for integrity, or shown elsewhere on the page.
_NOISE = {"files", "content_hash", "trust", "hash", "name", "description"}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return f"{len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        shown = json.dumps(value, sort_keys=True, default=str)
    else:
        shown = str(value)
    return shown if len(shown) <= MAX_VALUE else shown[: MAX_VALUE - 1] + "…"


def _more(parts: list[str], total: int) -> str:
    extra = total - len(parts)
    return "; ".join(parts) + (f"; +{extra} more" if extra > 0 else "")


def summarize(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """``risk_tier: medium → high`` for updates, the key facts for creations."""
    before, after = before or {}, after or {}
    if action.startswith("alias.") and ("alias" in before or "alias" in after):
        alias = after.get("alias") or before.get("alias")
        old, new = before.get("version"), after.get("version")
        return f"{alias}: {'v' + str(old) if old else '—'} → {'v' + str(new) if new else '—'}"
    if before and after:
        changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        parts = [f"{k}: {_show(before.get(k))} → {_show(after.get(k))}" for k in changed]
        return _more(parts[:MAX_PARTS], len(parts)) or "no field changed"
    facts = after or before
    keys = [k for k in facts if k not in _NOISE and facts[k] not in (None, "", {}, [])]
    parts = [f"{k}={_show(facts[k])}" for k in keys]
    prefix = "removed " if before and not after else ""
    return prefix + _more(parts[:MAX_PARTS], len(parts)) if parts else ""
