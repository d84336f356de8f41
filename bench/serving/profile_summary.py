"""Summarise a py-spy ``--format raw --threads`` recording of a steward server.

Standard library only. Prints, as shares of all on-CPU samples: the threads, the
stages of the request path (each sample charged to exactly one, see ``stage_of``), and
the functions with the most samples of their own. Multiplying a share by the server's
CPU time per request (``run.sh`` reports it) gives what the stage costs a request.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

# Each sample is charged to one stage. First the stages that own everything beneath
# them, wherever they appear in the stack (the log record's ``as_rows`` is the log's
# cost, the shadow's ``predict`` is the shadow's); then, walking from the innermost
# frame outwards, the first frame that matches.
ENCLOSING = (
    ("shadow mirroring (its thread: batched predict and log record)", r"ShadowMirror\._work"),
    ("prediction log: record (PredictionRecord)", r"\b_record \("),
    ("prediction log: writer thread (JSON, Parquet)", r"PredictionLog\.(_run|flush|_write)"),
    ("serving runtime: poll thread (database)", r"ServingRuntime\._loop"),
    ("metrics (prometheus)", r"prometheus_client|ServingMetrics"),
)
INNERMOST = (
    ("model predict (scikit-learn)", r"\(sklearn/"),
    ("decode: records -> DataFrame, schema check", r"serving/(validation|fastpath)\.py"),
    ("batching: queue, concat, split", r"serving/batching\.py"),
    (
        "response: as_rows + JSON render",
        r"\bas_rows \(|responses\.py|json/encoder|json_response|dumps \(",
    ),
    ("request body: read + parse", r"json_body|raw_json|parse_json|json/decoder|loads \("),
    ("auth: token check", r"api/policy\.py|authenticate_token"),
    ("steward middleware (request id, body limit)", r"api/middleware\.py"),
    ("HTTP: uvicorn + h11", r"uvicorn/|\(h11/"),
    ("framework: starlette/fastapi", r"\((starlette|fastapi)/"),
    ("thread hop: anyio, futures, locks", r"\((anyio|concurrent)/|\(threading\.py|\(queue\.py"),
    ("asyncio event loop", r"\((asyncio|selectors)"),
    ("serving: Predictor (routing, ids, timing)", r"serving/(predict|costs)\.py"),
)


# Leaves where a thread waits without using the CPU, which py-spy does not always
# recognise as idle (a lock's acquire in ``Condition.wait``, the selector's poll).
WAITING = re.compile(
    r"^(Condition\.wait|Event\.wait|EpollSelector\.select|_worker) \((threading|selectors|"
    r"concurrent/futures/thread)\.py"
)


def stage_of(frames: list[str]) -> str:
    text = ";".join(frames)
    for label, pattern in ENCLOSING:
        if re.search(pattern, text):
            return label
    for frame in reversed(frames):
        for label, pattern in INNERMOST:
            if re.search(pattern, frame):
                return label
    return "other"


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks.append((head.split(";"), int(count)))
    return stacks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path)
    parser.add_argument("--rate", type=float, default=100.0, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    stacks = parse(args.raw)
    waiting = sum(n for frames, n in stacks if WAITING.match(frames[-1]))
    stacks = [(frames, n) for frames, n in stacks if not WAITING.match(frames[-1])]
    total = sum(n for _, n in stacks)
    if not total:
        print("  no samples")
        return 1

    def share(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    threads: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, n in stacks:
        thread = next((f for f in frames if f.startswith("thread ")), frames[0])
        threads[re.sub(r"\s*\(0x[0-9a-f]+\)|\s*\(\d+\)", "", thread)] += n
        stages[stage_of(frames)] += n
        own[frames[-1]] += n
    print(
        f"  {total} on-CPU samples ({total / args.rate:.1f} CPU-seconds at {args.rate:g} Hz; "
        f"{waiting} more were threads waiting on a lock or the selector, left out)"
    )
    print("  by thread:")
    for name, n in threads.most_common(8):
        print(f"    {share(n)}  {name[:90]}")
    print("  by stage (each sample charged to one):")
    for label, n in stages.most_common():
        print(f"    {share(n)}  {label}")
    print(f"  top {args.top} functions by own samples:")
    for name, n in own.most_common(args.top):
        print(f"    {share(n)}  {name[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
