"""Drive both sides at once, interleaving them in small chunks.

Standard library only. Starts the MLflow worker and the modelsteward worker (each a
``serve`` process in its own virtual environment), warms each operation up on both,
then hands them the same slices of the same seeded arguments in turn, alternating
who goes first. On a shared two-core machine the load changes from second to second;
interleaving makes both sides live through the same conditions, so the ratio holds
even when the absolute numbers move.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

OPERATIONS = ("get", "search_name", "search_tag", "list_versions", "register")


class Worker:
    """One side's ``serve`` process, spoken to in JSON lines."""

    def __init__(self, system: str, command: str) -> None:
        self.system = system
        self.process = subprocess.Popen(
            shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        if self.process.stdin is None or self.process.stdout is None:
            raise RuntimeError("no pipes to the worker")
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.version = ""
        self.counts: dict[str, int] = {}

    def wait_ready(self) -> None:
        ready = self.answer()
        self.version, self.counts = ready["version"], ready["ready"]

    def answer(self) -> dict[str, Any]:
        for line in self.stdout:
            if line.startswith(common.RESULT):
                answer: dict[str, Any] = json.loads(line[len(common.RESULT) :])
                return answer
            sys.stderr.write(line)
        raise SystemExit(f"the {self.system} worker stopped (exit {self.process.wait()})")

    def ask(self, **command: Any) -> dict[str, Any]:
        self.stdin.write(json.dumps(command) + "\n")
        self.stdin.flush()
        return self.answer()

    def close(self) -> None:
        if self.process.poll() is None:
            self.stdin.write(json.dumps({"quit": True}) + "\n")
            self.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run(workers: list[Worker], chunks: int, title: str) -> dict[str, Any]:
    raw: dict[str, Any] = {
        w.system: {
            "version": w.version,
            "ops": {
                op: {"latencies_ms": [], "items": [], "chunk_ops_per_s": []} for op in OPERATIONS
            },
        }
        for w in workers
    }
    for op in OPERATIONS:
        total = min(w.counts[op] for w in workers)
        for worker in workers:
            worker.ask(op=op, warmup=True)
        bounds = [round(k * total / chunks) for k in range(chunks + 1)]
        for k in range(chunks):
            if bounds[k] == bounds[k + 1]:
                continue
            order = workers if k % 2 == 0 else workers[::-1]
            for worker in order:
                done = worker.ask(op=op, start=bounds[k], stop=bounds[k + 1])
                into = raw[worker.system]["ops"][op]
                into["latencies_ms"].extend(round(v * 1000, 4) for v in done["latencies"])
                into["items"].extend(done["items"])
                into["chunk_ops_per_s"].append(len(done["latencies"]) / sum(done["latencies"]))
        line = []
        for worker in workers:
            measured = raw[worker.system]["ops"][op]["latencies_ms"]
            summary = common.summarise([v / 1000 for v in measured])
            line.append(
                f"{worker.system} {summary['ops_per_s']:.0f} ops/s, p95 {summary['p95_ms']:.1f} ms"
            )
        print(f"  [{title}] {op:<13} " + "; ".join(line), flush=True)
    return raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transport", required=True)
    parser.add_argument("--mlflow", required=True, help="command line of the MLflow worker")
    parser.add_argument("--steward", required=True, help="command line of the steward worker")
    parser.add_argument(
        "--baseline", help="command line of a second steward worker (an older build)"
    )
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    workers = [Worker("mlflow", args.mlflow), Worker("modelsteward", args.steward)]
    if args.baseline:
        workers.append(Worker("baseline", args.baseline))
    try:
        for worker in workers:
            worker.wait_ready()
        raw = run(workers, args.chunks, args.transport)
    finally:
        for worker in workers:
            worker.close()
    common.write_json(
        args.out, {"transport": args.transport, "chunks": args.chunks, "systems": raw}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
