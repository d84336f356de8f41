"""Pick which route answers a request: weighted (canary) or sticky by key (A/B)."""

from __future__ import annotations

import random
import zlib
from typing import Any

Route = dict[str, Any]


def bucket(key: str) -> int:
    """A stable 0-99 bucket for a request key, the same in every process."""
    return zlib.crc32(key.encode()) % 100


def choose(routes: list[Route], key: str | None = None, rng: random.Random | None = None) -> Route:
    """The answering route; shadows never answer."""
    answering = [r for r in routes if r["role"] in ("champion", "challenger") and r["weight"] > 0]
    if not answering:
        answering = [r for r in routes if r["role"] == "champion"]
    if len(answering) == 1:
        return answering[0]
    sticky = any(r.get("sticky") for r in answering)
    point = bucket(key) if (sticky and key) else (rng or random).randrange(100)
    for route in answering:
        if point < route["weight"]:
            return route
        point -= route["weight"]
    return answering[-1]


def shadows(routes: list[Route]) -> list[Route]:
    return [r for r in routes if r["role"] == "shadow"]
