"""The floor: the least work a full per-column drift summary needs, in NumPy.

Reads both Parquet files, then per numeric column two sorts (one per side) and, from
them, KS (with its asymptotic p-value), Wasserstein, PSI and Jensen-Shannon on reference
deciles; per categorical column value counts, chi-square, PSI and Jensen-Shannon. No
report, no quality figures: the time a tight script needs.

    python floor.py REFERENCE.parquet CURRENT.parquet OUT.json
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.stats import chi2, distributions


def ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    at_a = np.searchsorted(a, a, "right") / a.size - np.searchsorted(b, a, "right") / b.size
    at_b = np.searchsorted(a, b, "right") / a.size - np.searchsorted(b, b, "right") / b.size
    d = float(max(np.abs(at_a).max(), np.abs(at_b).max()))
    en = a.size * b.size / (a.size + b.size)
    return d, float(distributions.kstwo.sf(d, np.round(en)))


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    n1, n2 = a.size, b.size
    ranks = np.concatenate([np.arange(1, n1 + 1) * n2, np.arange(1, n2 + 1) * n1])
    ranks.sort(kind="stable")
    ranks = ranks[np.r_[True, ranks[1:] != ranks[:-1]]]
    widths = np.diff(ranks, prepend=0)
    return float(
        np.dot(widths, np.abs(a[-(-ranks // n2) - 1] - b[-(-ranks // n1) - 1])) / (n1 * n2)
    )


def binned(p_counts: np.ndarray, q_counts: np.ndarray) -> dict[str, float]:
    p, q = p_counts / p_counts.sum(), q_counts / q_counts.sum()
    pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        js = (
            np.where(p > 0, p * np.log2(p / m), 0).sum()
            + np.where(q > 0, q * np.log2(q / m), 0).sum()
        )
    return {"psi": float(np.sum((qf - pf) * np.log(qf / pf))), "js": float(np.sqrt(js / 2))}


def numeric(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a, b = np.sort(a[np.isfinite(a)]), np.sort(b[np.isfinite(b)])
    d, p = ks(a, b)
    inner = a[-(-np.arange(1, 10) * a.size // 10) - 1]
    ref = np.diff(np.r_[0, np.searchsorted(a, inner, "right"), a.size])
    cur = np.diff(np.r_[0, np.searchsorted(b, inner, "right"), b.size])
    return {"ks": d, "ks_p": p, "wasserstein": wasserstein(a, b) / a.std(), **binned(ref, cur)}


def categorical(a, b) -> dict[str, float]:
    ca, cb = pc.value_counts(a), pc.value_counts(b)
    ra = dict(zip(ca.field("values").to_pylist(), ca.field("counts").to_pylist(), strict=True))
    rb = dict(zip(cb.field("values").to_pylist(), cb.field("counts").to_pylist(), strict=True))
    keys = sorted(set(ra) | set(rb), key=str)
    p = np.array([ra.get(k, 0) for k in keys], float)
    q = np.array([rb.get(k, 0) for k in keys], float)
    table = np.vstack([p, q])
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    return {"chi2": stat, "chi2_p": float(chi2.sf(stat, len(keys) - 1)), **binned(p, q)}


def main() -> None:
    ref, cur = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
    out = {}
    for name in ref.schema.names:
        a, b = ref.column(name), cur.column(name)
        if (
            pa.types.is_string(a.type)
            or pa.types.is_large_string(a.type)
            or pa.types.is_dictionary(a.type)
        ):
            out[name] = categorical(a, b)
        else:
            out[name] = numeric(a.to_numpy().astype(np.float64), b.to_numpy().astype(np.float64))
    with open(sys.argv[3], "w") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
