"""How a strategy turns the current routes and a new version into the next routes.

Routes are a small list of ``{"version", "role", "weight"}``: one ``champion``, at
most one ``challenger`` (canary: random split; ab: sticky split by request key) and
any number of ``shadow`` versions that get a mirrored copy whose answer is only logged.
"""

from __future__ import annotations

from typing import Any, Literal

from modelsteward.errors import Conflict, InvalidInput

Strategy = Literal["direct", "canary", "shadow", "ab"]
STRATEGIES: tuple[str, ...] = ("direct", "canary", "shadow", "ab")
Route = dict[str, Any]


def champion_of(routes: list[Route]) -> Route | None:
    return next((r for r in routes if r["role"] == "champion"), None)


def plan_routes(
    current: list[Route], version: int, strategy: str, traffic: int | None
) -> list[Route]:
    if strategy not in STRATEGIES:
        raise InvalidInput(
            f"unknown strategy {strategy[:20]!r}; use one of {', '.join(STRATEGIES)}"
        )
    if traffic is not None and not 0 < traffic < 100 and strategy in ("canary", "ab"):
        raise InvalidInput("--traffic must be between 1 and 99 for a canary or A/B split")
    if strategy == "direct":
        return [{"version": version, "role": "champion", "weight": 100}]
    champion = champion_of(current)
    if champion is None:
        raise Conflict(
            f"a {strategy} deployment needs a serving champion; deploy one directly first"
        )
    if champion["version"] == version:
        raise Conflict(f"version {version} is already the champion")
    if strategy == "shadow":
        shadows = [r for r in current if r["role"] == "shadow" and r["version"] != version]
        return [
            {**champion, "weight": 100},
            *shadows,
            {"version": version, "role": "shadow", "weight": 0},
        ]
    share = traffic if traffic is not None else (10 if strategy == "canary" else 50)
    return [
        {"version": champion["version"], "role": "champion", "weight": 100 - share},
        {"version": version, "role": "challenger", "weight": share, "sticky": strategy == "ab"},
    ]


def retarget_traffic(current: list[Route], traffic: int) -> list[Route]:
    """Change the challenger's share live (0 drains it, 100 makes it take everything)."""
    if not 0 <= traffic <= 100:
        raise InvalidInput("traffic must be between 0 and 100")
    challenger = next((r for r in current if r["role"] == "challenger"), None)
    if challenger is None:
        raise Conflict("this deployment has no challenger whose traffic could change")
    return [
        {**r, "weight": traffic if r["role"] == "challenger" else 100 - traffic}
        if r["role"] in ("champion", "challenger")
        else r
        for r in current
    ]


def strategy_of(routes: list[Route]) -> str:
    roles = {r["role"] for r in routes}
    if "challenger" in roles:
        challenger = next(r for r in routes if r["role"] == "challenger")
        return "ab" if challenger.get("sticky") else "canary"
    return "shadow" if "shadow" in roles else "direct"
