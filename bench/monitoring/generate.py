"""Seeded reference and current Parquet files: 20 numeric + 5 categorical + target + prediction.

The current file shifts a few columns (x0 mean +0.25 sd, x1 scale x1.3, x2 a 10% tail,
c0's mix, and the prediction), the rest are drawn from the same distributions. Written
in row groups of 500 000 rows so even the 50 000 000-row file is generated in bounded
memory.

    python generate.py ROWS OUT.parquet --side reference|current [--seed N]
"""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC = [f"x{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
LEVELS = [
    [f"{name}_{j}" for j in range(k)]
    for name, k in zip(CATEGORICAL, (4, 8, 12, 30, 50), strict=True)
]
GROUP = 500_000


def batch(rows: int, current: bool, rng: np.random.Generator) -> pa.RecordBatch:
    columns: dict[str, pa.Array] = {}
    for i, name in enumerate(NUMERIC):
        if i % 4 == 3:
            values = rng.lognormal(1.0, 0.6, rows)
        elif i % 4 == 2:
            values = rng.gamma(2.0, 2.0, rows)
        else:
            values = rng.normal(10.0 * i, 1.0 + i, rows)
        if current and name == "x0":
            values = values + 0.25 * (1.0 + i)
        if current and name == "x1":
            values = 10.0 * i + (values - 10.0 * i) * 1.3
        if current and name == "x2":
            tail = rng.random(rows) < 0.10
            values = np.where(tail, values + 15.0, values)
        columns[name] = pa.array(values)
    for name, levels in zip(CATEGORICAL, LEVELS, strict=True):
        weights = np.linspace(2.0, 1.0, len(levels))
        if current and name == "c0":
            weights = weights[::-1] ** 2
        codes = rng.choice(len(levels), size=rows, p=weights / weights.sum()).astype(np.int32)
        columns[name] = pa.array(np.array(levels, dtype=object)[codes], type=pa.string())
    signal = np.asarray(columns["x0"]) / 10.0 + np.asarray(columns["x4"]) / 50.0
    score = 1 / (1 + np.exp(-(signal - np.median(signal))))
    columns["target"] = pa.array((rng.random(rows) < score).astype(np.int64))
    columns["prediction"] = pa.array(np.clip(score + rng.normal(0, 0.05, rows), 0, 1))
    return pa.RecordBatch.from_pydict(columns)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--side", choices=("reference", "current"), required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed + (1 if args.side == "current" else 0))
    writer = None
    left = args.rows
    while left > 0:
        part = batch(min(GROUP, left), args.side == "current", rng)
        if writer is None:
            writer = pq.ParquetWriter(args.out, part.schema, compression="snappy")
        writer.write_batch(part)
        left -= part.num_rows
    if writer is not None:
        writer.close()


if __name__ == "__main__":
    main()
