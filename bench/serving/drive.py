"""Drive every server with the same client, interleaved in rounds.

Standard library only. ``run.sh`` starts one server process per system (one worker
each) and passes their ports and process-group ids. This script first checks that
every system answers the request rows with the same labels the fitted model gives in
process, warms each (system, model, measurement) up, then runs ``--rounds`` rounds:
in each, every measurement of every model is taken on every system in turn, in an
order rotated from round to round. On a shared two-core machine the background load
changes from second to second; interleaving makes every system live through the same
conditions, so the ratios hold even when the absolute numbers move.

The log's price is read from one server (``steward_side.py serve-toggle``) whose log
is switched on or off (SIGUSR2) before each of its windows: the "log on" and "log off"
systems are that one process in its two states.

Besides latency and throughput it reads the CPU time the server's processes used
during each window (``/proc``), which is less sensitive to other jobs than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import loadgen  # noqa: E402

READY_TIMEOUT_S = 180.0
SETTLE_S = 0.3  # after switching a server's log: its writer flushes what it holds
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class System:
    """One thing measured: a server process and the request it is sent."""

    name: str
    process: str  # key in --ports; "{m}" is the model
    path: str
    fmt: str
    measures: tuple[str, ...]
    auth: bool = False
    log: bool | None = None  # a serve-toggle server: its prediction log on or off


STEWARD_PATH = "/api/v1/deployments/bench-{m}-production/predict"
ALL = ("c1", "c8", "c32", "batch")
SYSTEMS = (
    System("floor", "floor-{m}", "/predict", "records", ALL),
    System("modelsteward", "steward", STEWARD_PATH, "records", ALL, auth=True),
    System("mlflow", "mlflow-{m}", "/invocations", "dataframe_split", ALL),
    System("bentoml", "bentoml-{m}", "/predict", "bentoml", ALL),
    # Variants of modelsteward, each a question of its own:
    # The log's price: one server, its log switched on or off before each window.
    System(
        "steward: log on",
        "steward-toggle",
        STEWARD_PATH,
        "records",
        ("c8", "c32", "batch"),
        auth=True,
        log=True,
    ),
    System(
        "steward: log off",
        "steward-toggle",
        STEWARD_PATH,
        "records",
        ("c8", "c32", "batch"),
        auth=True,
        log=False,
    ),
    System(
        "steward: shadow",
        "steward",
        "/api/v1/deployments/bench-{m}-shadowed/predict",
        "records",
        ("c1", "c8"),
        auth=True,
    ),
    System(
        "steward: batching flipped",
        "steward-batching-flipped",
        STEWARD_PATH,
        "records",
        ("c1", "c8", "c32"),
        auth=True,
    ),
)
# measurement -> (request rows, concurrency)
MEASURES = {"c1": ("single", 1), "c8": ("single", 8), "c32": ("single", 32), "batch": ("batch", 1)}


def process_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and its descendants.

    A tree rather than a process group: BentoML's worker runs in a group of its own.
    """
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])  # fields after the name: state, ppid, pgrp, ...
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, grew = {root}, True
    while grew:
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    return sum(ticks.get(pid, 0) for pid in tree) / CLOCK_TICKS


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.ports: dict[str, int] = json.loads(args.ports)
        self.pids: dict[str, int] = json.loads(args.pids)
        self.token = args.token_file.read_text().strip() if args.token_file else ""
        expected = json.loads((args.workdir / "expected.json").read_text())
        self.expected: dict[str, dict[str, list[int]]] = expected["predictions"]
        self.bodies = {
            (fmt, size): common.body(fmt, common.request_rows(size))
            for fmt in ("records", "dataframe_split", "bentoml")
            for size in ("single", "batch")
        }
        self.systems = [s for s in SYSTEMS if s.process.format(m="lr") in self.ports]
        self.log_on: dict[str, bool] = {}  # serve-toggle servers start with the log on

    def switch_log(self, system: System) -> None:
        """Switch a serve-toggle server's log (SIGUSR2) to what ``system`` measures."""
        if system.log is None:
            return
        process = system.process
        if self.log_on.get(process, True) != system.log:
            os.kill(self.pids[process], signal.SIGUSR2)
            self.log_on[process] = system.log
            time.sleep(SETTLE_S)

    def process_of(self, system: System, model: str) -> str:
        return system.process.format(m=model)

    def endpoint(self, system: System, model: str, size: str) -> loadgen.Endpoint:
        headers = (("Authorization", f"Bearer {self.token}"),) if system.auth else ()
        return loadgen.Endpoint(
            port=self.ports[self.process_of(system, model)],
            path=system.path.format(m=model),
            body=self.bodies[(system.fmt, size)],
            headers=headers,
        )

    def check(self, system: System, model: str) -> None:
        """Wait until the system answers, then compare its labels with the model's own."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        for size in ("single", "batch"):
            while True:
                status, answer = loadgen.call_once(self.endpoint(system, model, size))
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if status != 200:
                raise SystemExit(f"{system.name} ({model}) answers {status}: {str(answer)[:300]}")
            got = common.predictions(system.fmt, answer)
            if got != self.expected[model][size]:
                wrong = sum(a != b for a, b in zip(got, self.expected[model][size], strict=False))
                raise SystemExit(
                    f"{system.name} ({model}) predicted {wrong} of {len(got)} {size} rows "
                    "differently from the fitted model: not the same model, not comparable"
                )

    def window(self, system: System, model: str, measure: str, seconds: float) -> dict[str, Any]:
        size, concurrency = MEASURES[measure]
        self.switch_log(system)
        pid = self.pids.get(self.process_of(system, model))
        cpu_before = process_cpu_s(pid) if pid else 0.0
        seen = loadgen.measure(self.endpoint(system, model, size), concurrency, seconds)
        cpu = process_cpu_s(pid) - cpu_before if pid else float("nan")
        if seen.errors:
            raise SystemExit(
                f"{system.name} ({model}, {measure}): {seen.errors} failed requests; "
                f"first: {seen.first_error}"
            )
        return {
            "latencies_ms": [round(v * 1000, 4) for v in seen.latencies_s],
            "seconds": seen.seconds,
            "server_cpu_s": cpu,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--ports", required=True, help="JSON: process name -> port")
    parser.add_argument("--pids", default="{}", help="JSON: process name -> server pid")
    parser.add_argument("--token-file", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds per warm-up")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    bench = Bench(args)
    started = time.perf_counter()
    for system in bench.systems:
        for model in common.MODELS:
            bench.check(system, model)
    names = ", ".join(s.name for s in bench.systems)
    print(f"  every system gives the fitted model's labels ({names})", flush=True)
    for system in bench.systems:
        for model in common.MODELS:
            for measure in system.measures:
                bench.window(system, model, measure, args.warmup)
    print(f"  warmed up in {time.perf_counter() - started:.0f}s", flush=True)

    raw: dict[str, Any] = {
        s.name: {m: {x: [] for x in s.measures} for m in common.MODELS} for s in bench.systems
    }
    for round_no in range(args.rounds):
        for measure in MEASURES:
            for model in common.MODELS:
                taking = [s for s in bench.systems if measure in s.measures]
                shift = round_no % len(taking)
                line = []
                for system in taking[shift:] + taking[:shift]:
                    seen = bench.window(system, model, measure, args.window)
                    raw[system.name][model][measure].append(seen)
                    summary = common.summarise(
                        [v / 1000 for v in seen["latencies_ms"]], seen["seconds"], 1
                    )
                    if measure == "c1":
                        figure = f"p50 {summary['p50_ms']:.2f} ms"
                    elif measure == "batch":
                        figure = f"{summary['req_per_s'] * common.BATCH_ROWS:.0f} rows/s"
                    else:
                        figure = f"{summary['req_per_s']:.0f} req/s"
                    line.append(f"{system.name} {figure}")
                print(
                    f"  [round {round_no + 1}/{args.rounds}] {model} {measure:<5} "
                    + "; ".join(line),
                    flush=True,
                )
    common.write_json(
        args.out,
        {
            "rounds": args.rounds,
            "window_s": args.window,
            "measures": {k: {"rows": v[0], "concurrency": v[1]} for k, v in MEASURES.items()},
            "systems": raw,
            "seconds": time.perf_counter() - started,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
