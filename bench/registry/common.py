"""What both sides of the registry benchmark share: the workload and the stopwatch.

Standard library only, because it is imported from two virtual environments (the
project's and MLflow's). Both sides draw the same seeded sequence of models,
versions and search terms, so they do the same work in the same order.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEAMS = 20
SEED = 20_240_601
WARMUP = 10


def model_name(i: int) -> str:
    return f"bench-model-{i:05d}"


def team_of(i: int) -> str:
    return f"team-{i % TEAMS:02d}"


def versions_per_model(models: int, versions: int) -> list[int]:
    """Spread ``versions`` over ``models`` as evenly as possible (at least one each)."""
    base, extra = divmod(versions, models)
    return [max(1, base + (1 if i < extra else 0)) for i in range(models)]


@dataclass(frozen=True)
class Workload:
    """The seeded arguments of every measured call, identical on both sides."""

    models: int
    versions: int
    register_ops: int
    get_ops: int
    search_ops: int

    def random(self, salt: str) -> random.Random:
        return random.Random(f"{SEED}-{salt}")

    def get_targets(self) -> list[tuple[str, int]]:
        counts = versions_per_model(self.models, self.versions)
        rng = self.random("get")
        picks = []
        for _ in range(self.get_ops):
            i = rng.randrange(self.models)
            picks.append((model_name(i), rng.randint(1, counts[i])))
        return picks

    def name_queries(self) -> list[str]:
        """Substrings matching ten models each (``model-0042`` -> 00420..00429)."""
        rng = self.random("name")
        groups = max(1, self.models // 10)
        return [f"model-{rng.randrange(groups):04d}" for _ in range(self.search_ops)]

    def tag_queries(self) -> list[str]:
        """A team value shared by models // TEAMS models (50 at 1 000 models)."""
        rng = self.random("tag")
        return [f"team-{rng.randrange(TEAMS):02d}" for _ in range(self.search_ops)]

    def list_targets(self) -> list[str]:
        rng = self.random("list")
        return [model_name(rng.randrange(self.models)) for _ in range(self.search_ops)]

    def register_targets(self) -> list[str]:
        rng = self.random("register")
        return [model_name(rng.randrange(self.models)) for _ in range(self.register_ops)]

    def arguments(self) -> dict[str, list[Any]]:
        """Every operation's arguments, in the order they are measured."""
        return {
            "get": self.get_targets(),
            "search_name": self.name_queries(),
            "search_tag": self.tag_queries(),
            "list_versions": self.list_targets(),
            "register": self.register_targets(),
        }


def parse_args(
    description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("phase", choices=["fill", "serve"])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--register-ops", type=int, default=500)
    parser.add_argument("--get-ops", type=int, default=2000)
    parser.add_argument("--search-ops", type=int, default=300)
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def workload_of(args: argparse.Namespace) -> Workload:
    return Workload(
        models=args.models,
        versions=args.versions,
        register_ops=args.register_ops,
        get_ops=args.get_ops,
        search_ops=args.search_ops,
    )


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(latencies_s: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_s)
    total = sum(ordered)
    return {
        "n": len(ordered),
        "ops_per_s": len(ordered) / total if total else float("nan"),
        "mean_ms": statistics.fmean(ordered) * 1000,
        "p50_ms": percentile(ordered, 50) * 1000,
        "p95_ms": percentile(ordered, 95) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": ordered[-1] * 1000,
    }


Calls = dict[str, Callable[[Any], int]]
RESULT = "@@result "


def serve(calls: Calls, workload: Workload, version: str) -> None:
    """Answer the driver: one JSON command per stdin line, one result line per command.

    A command names an operation and a slice of its seeded arguments; ``warmup`` runs
    the first few calls untimed. Each call returns how many items it got back, so the
    report can show that both sides answered with the same number of results. Result
    lines carry a prefix because libraries may print on stdout too.
    """
    arguments = workload.arguments()
    counts = {op: len(arguments[op]) for op in calls}
    print(RESULT + json.dumps({"ready": counts, "version": version}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            break
        call, chosen = calls[command["op"]], arguments[command["op"]]
        if command.get("warmup"):
            for argument in chosen[:WARMUP]:
                call(argument)
            print(RESULT + json.dumps({"warm": command["op"]}), flush=True)
            continue
        latencies, items = [], []
        for argument in chosen[command["start"] : command["stop"]]:
            started = time.perf_counter()
            items.append(call(argument))
            latencies.append(time.perf_counter() - started)
        print(RESULT + json.dumps({"latencies": latencies, "items": items}), flush=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def record_fill(workdir: Path, system: str, seconds: float, what: str) -> None:
    print(f"  [{system} fill] {what} in {seconds:.1f}s", flush=True)
    write_json(workdir / f"fill-{system}.json", {"seconds": round(seconds, 1), "what": what})


def progress(label: str, done: int, total: int, started: float) -> None:
    if done == total or done % max(1, total // 10) == 0:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"  [{label}] {done}/{total} ({rate:.0f}/s)", flush=True)
