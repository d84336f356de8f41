"""Price the prediction log inside one server: windows with the log on and off, alternated.

``logcost.sh`` starts ``steward_side.py serve-toggle``, whose log each SIGUSR2 switches
off or back on. For every model and measurement this script takes ``--rounds`` pairs of
windows, one with the log on and one off, their order swapped from pair to pair so a
drift in the machine's speed falls on both alike. The log's cost is the share of
throughput it takes: one minus the median of the log-on windows' throughput over the
median of the log-off windows'. Next to it: the server's CPU time per request with the
log on and off, the part of it the log's writer thread took, and the page faults per
request, all read from ``/proc``.

``run.sh`` prices the log the same way, within its rounds of every system; this script
needs no peer and adds the single-row c=1 figure and where the time went.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import loadgen  # noqa: E402
from drive import CLOCK_TICKS, MEASURES, SETTLE_S, STEWARD_PATH  # noqa: E402
from report import LOG_COST_TARGET as TARGET  # noqa: E402


def ticks_and_faults(path: str) -> tuple[int, int]:
    """CPU ticks (user + system) and minor page faults of a process or thread."""
    with open(path, "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), int(fields[7])


class Toggled:
    """The serve-toggle server: its endpoint per model and measurement, and its switch."""

    def __init__(self, args: argparse.Namespace) -> None:
        info = json.loads(args.info.read_text())
        self.pid, self.writer = int(info["pid"]), int(info["writer_tid"])
        self.port, self.token = args.port, args.token_file.read_text().strip()
        self.log_on = True
        self.bodies = {
            size: common.body("records", common.request_rows(size)) for size in ("single", "batch")
        }

    def endpoint(self, model: str, size: str) -> loadgen.Endpoint:
        return loadgen.Endpoint(
            port=self.port,
            path=STEWARD_PATH.format(m=model),
            body=self.bodies[size],
            headers=(("Authorization", f"Bearer {self.token}"),),
        )

    def switch_to(self, on: bool) -> None:
        if on != self.log_on:
            os.kill(self.pid, signal.SIGUSR2)
            self.log_on = on
            time.sleep(SETTLE_S)

    def window(self, model: str, measure: str, seconds: float) -> dict[str, float]:
        size, concurrency = MEASURES[measure]
        process, writer = f"/proc/{self.pid}/stat", f"/proc/{self.pid}/task/{self.writer}/stat"
        cpu0, faults0 = ticks_and_faults(process)
        writer0, _ = ticks_and_faults(writer)
        seen = loadgen.measure(self.endpoint(model, size), concurrency, seconds)
        cpu1, faults1 = ticks_and_faults(process)
        writer1, _ = ticks_and_faults(writer)
        if seen.errors:
            raise SystemExit(f"{model} {measure}: {seen.errors} failed; {seen.first_error}")
        done = max(len(seen.latencies_s), 1)
        return {
            "req_per_s": len(seen.latencies_s) / seen.seconds,
            "p50_ms": common.percentile(sorted(seen.latencies_s), 50) * 1000,
            "cpu_ms_per_req": (cpu1 - cpu0) / CLOCK_TICKS * 1000 / done,
            "writer_ms_per_req": (writer1 - writer0) / CLOCK_TICKS * 1000 / done,
            "faults_per_req": (faults1 - faults0) / done,
        }


def median_of(windows: list[dict[str, float]], key: str) -> float:
    return statistics.median(w[key] for w in windows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, required=True, help="serve-toggle's --info file")
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=6, help="pairs of windows per figure")
    parser.add_argument("--window", type=float, default=2.0, help="seconds per window")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    server = Toggled(args)
    results: dict[str, Any] = {}
    print(
        f"  {'model':<5} {'measure':<7} {'on req/s':>9} {'off req/s':>9} {'cost':>7}  "
        f"{'CPU ms/req on/off':>17}  {'writer ms/req':>13}  {'faults/req on/off':>17}",
        flush=True,
    )
    for model in common.MODELS:
        for measure in MEASURES:
            server.switch_to(True)
            server.window(model, measure, args.window)  # warm-up
            windows: dict[bool, list[dict[str, float]]] = {True: [], False: []}
            for pair in range(args.rounds):
                for on in (True, False) if pair % 2 == 0 else (False, True):
                    server.switch_to(on)
                    windows[on].append(server.window(model, measure, args.window))
            on_rps = median_of(windows[True], "req_per_s")
            off_rps = median_of(windows[False], "req_per_s")
            cost = 1 - on_rps / off_rps
            results[f"{model} {measure}"] = {
                "cost": cost,
                "windows": {"on": windows[True], "off": windows[False]},
            }
            print(
                f"  {model:<5} {measure:<7} {on_rps:9.1f} {off_rps:9.1f} {cost * 100:+6.1f}%  "
                f"{median_of(windows[True], 'cpu_ms_per_req'):8.2f} / "
                f"{median_of(windows[False], 'cpu_ms_per_req'):5.2f}  "
                f"{median_of(windows[True], 'writer_ms_per_req'):13.2f}  "
                f"{median_of(windows[True], 'faults_per_req'):8.1f} / "
                f"{median_of(windows[False], 'faults_per_req'):5.1f}",
                flush=True,
            )
    server.switch_to(True)
    worst = max(results, key=lambda key: results[key]["cost"])
    verdict = "met" if results[worst]["cost"] < TARGET else "MISSED"
    print(
        f"\n  the log's cost, worst: {results[worst]['cost'] * 100:+.1f}% ({worst}); "
        f"target under {TARGET * 100:.0f}%: {verdict}",
        flush=True,
    )
    common.write_json(
        args.out,
        {"rounds": args.rounds, "window_s": args.window, "target": TARGET, "figures": results},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
