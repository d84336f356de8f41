"""What every part of the serving benchmark shares: the rows, the bodies, the stopwatch.

Standard library only, because it is imported from four virtual environments (the
project's, the floor's, MLflow's and BentoML's). The rows come from one seeded
generator, so every system is fitted on, and asked about, exactly the same numbers.
"""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path
from typing import Any

SEED = 20_241_123
FEATURES = [f"f{i:02d}" for i in range(20)]
TRAIN_ROWS = 4_000
BATCH_ROWS = 1_000
MODELS = ("lr", "rf")
MODEL_LABELS = {"lr": "LogisticRegression", "rf": "RandomForest (100 trees)"}


def rows(count: int, salt: str) -> list[list[float]]:
    """``count`` rows of 20 standard-normal features, rounded to 4 decimals."""
    rng = random.Random(f"{SEED}-{salt}")
    return [[round(rng.gauss(0.0, 1.0), 4) for _ in FEATURES] for _ in range(count)]


def labels(values: list[list[float]]) -> list[int]:
    """A noisy linear rule, so both models have something to learn."""
    rng = random.Random(f"{SEED}-labels")
    weights = [rng.uniform(-1.0, 1.0) for _ in FEATURES]
    return [
        int(sum(w * x for w, x in zip(weights, row, strict=True)) + rng.gauss(0.0, 0.5) > 0)
        for row in values
    ]


def request_rows(kind: str) -> list[list[float]]:
    """The rows a request carries: one row (``single``) or ``BATCH_ROWS`` (``batch``)."""
    return rows(1 if kind == "single" else BATCH_ROWS, f"request-{kind}")


def records(values: list[list[float]]) -> list[dict[str, float]]:
    return [dict(zip(FEATURES, row, strict=True)) for row in values]


# Each system's native JSON body for the same rows.
def body(fmt: str, values: list[list[float]]) -> bytes:
    if fmt == "records":  # the floor and modelsteward: a JSON list of records
        data: Any = records(values)
    elif fmt == "dataframe_split":  # mlflow models serve
        data = {"dataframe_split": {"columns": FEATURES, "data": values}}
    elif fmt == "bentoml":  # the BentoML service's one argument, ``data`` (records)
        data = {"data": records(values)}
    else:
        raise ValueError(f"unknown body format {fmt!r}")
    return json.dumps(data, separators=(",", ":")).encode()


def predictions(fmt: str, answer: Any) -> list[Any]:
    """The predicted labels out of a system's response."""
    return list(answer if fmt == "bentoml" else answer["predictions"])


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(latencies_s: list[float], seconds: float, rows_per_request: int) -> dict[str, float]:
    """Latency percentiles (ms) and throughput (requests and rows per second)."""
    ordered = sorted(latencies_s)
    done = len(ordered)
    return {
        "n": done,
        "seconds": seconds,
        "req_per_s": done / seconds if seconds else float("nan"),
        "rows_per_s": done * rows_per_request / seconds if seconds else float("nan"),
        "mean_ms": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
        "p50_ms": percentile(ordered, 50) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": ordered[-1] * 1000 if ordered else float("nan"),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
