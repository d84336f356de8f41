"""Print the side-by-side tables and write ``bench/results/registry.json``.

Standard library only. Reads the ``<transport>.json`` files written by ``drive.py``.
Ops/s is calls divided by the time spent in them (one caller, sequential), so it is
1 / mean latency. The ratio is modelsteward's ops/s over MLflow's; the range next to
it is the spread of the per-chunk ratios (middle 80%), which shows how much the
machine's noise moved it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

OPERATIONS = {
    "register": "register (new version)",
    "get": "get version",
    "search_name": "search models: name",
    "search_tag": "search models: tag",
    "list_versions": "search versions: model",
}
SEARCHES = ("search_name", "search_tag", "list_versions")
TARGET_RATIO = 3.0
TARGET_SEARCH_P95_MS = 20.0


def load_runs(raw: Path) -> list[dict[str, Any]]:
    runs = [json.loads(path.read_text()) for path in sorted(raw.glob("*.json"))]
    order = {"in-process": 0, "http": 1}
    return sorted(runs, key=lambda r: order.get(r["transport"], 9))


def summary_of(measured: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = common.summarise([v / 1000 for v in measured["latencies_ms"]])
    summary["mean_items"] = statistics.fmean(measured["items"])
    return summary


def compare(run: dict[str, Any]) -> dict[str, Any]:
    mlflow, steward = run["systems"]["mlflow"], run["systems"]["modelsteward"]
    rows = {}
    for op in OPERATIONS:
        m, s = summary_of(mlflow["ops"][op]), summary_of(steward["ops"][op])
        chunk_ratios = sorted(
            sc / mc
            for mc, sc in zip(
                mlflow["ops"][op]["chunk_ops_per_s"],
                steward["ops"][op]["chunk_ops_per_s"],
                strict=True,
            )
        )
        ratio = s["ops_per_s"] / m["ops_per_s"]
        rows[op] = {
            "mlflow": m,
            "modelsteward": s,
            "ratio": ratio,
            "chunk_ratio_p10_p90": [
                common.percentile(chunk_ratios, 10),
                common.percentile(chunk_ratios, 90),
            ],
            "meets_ratio": ratio >= TARGET_RATIO,
            "meets_p95": s["p95_ms"] < TARGET_SEARCH_P95_MS if op in SEARCHES else None,
            "same_result_count": abs(m["mean_items"] - s["mean_items"]) < 1e-9,
        }
    baseline = run["systems"].get("baseline")
    if baseline is not None:  # an older build run beside the two: how the ratio moved
        for op in OPERATIONS:
            b = summary_of(baseline["ops"][op])
            before = b["ops_per_s"] / rows[op]["mlflow"]["ops_per_s"]
            rows[op]["baseline"] = b
            rows[op]["baseline_ratio"] = before
            rows[op]["ratio_change"] = rows[op]["ratio"] / before - 1
    return {
        "transport": run["transport"],
        "chunks": run["chunks"],
        "versions": {name: side["version"] for name, side in run["systems"].items()},
        "operations": rows,
    }


def verdict_word(met: bool) -> str:
    return "ok" if met else "MISSED"


def table(result: dict[str, Any]) -> str:
    head = (
        f"{'operation':<24} {'mlflow ops/s':>12} {'steward ops/s':>13} {'ratio':>6} "
        f"{'(p10-p90)':>11} {'mlflow p95 ms':>13} {'steward p95 ms':>14}  target"
    )
    lines = [head, "-" * len(head)]
    for op, label in OPERATIONS.items():
        row = result["operations"][op]
        m, s = row["mlflow"], row["modelsteward"]
        spread = row["chunk_ratio_p10_p90"]
        checks = [f"x{TARGET_RATIO:g} {verdict_word(row['meets_ratio'])}"]
        if row["meets_p95"] is not None:
            checks.append(f"p95<{TARGET_SEARCH_P95_MS:g}ms {verdict_word(row['meets_p95'])}")
        if not row["same_result_count"]:
            checks.append(f"(results {m['mean_items']:.1f} vs {s['mean_items']:.1f})")
        lines.append(
            f"{label:<24} {m['ops_per_s']:>12.0f} {s['ops_per_s']:>13.0f} "
            f"{row['ratio']:>6.2f} {spread[0]:>5.2f}-{spread[1]:<5.2f} "
            f"{m['p95_ms']:>13.2f} {s['p95_ms']:>14.2f}  {', '.join(checks)}"
        )
    if any("baseline" in row for row in result["operations"].values()):
        title = f"{'against the baseline build':<24} {'ratio before':>12} {'ratio now':>13}"
        lines += ["", f"{title} {'change':>7}"]
        for op, label in OPERATIONS.items():
            row = result["operations"][op]
            lines.append(
                f"{label:<24} {row['baseline_ratio']:>12.2f} {row['ratio']:>13.2f} "
                f"{row['ratio_change']:>+7.1%}"
            )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def fills(work: Path | None) -> dict[str, Any]:
    """How each store was filled and how long it took (the two fills run at once)."""
    if work is None:
        return {}
    return {
        path.stem.removeprefix("fill-"): json.loads(path.read_text())
        for path in sorted(work.glob("fill-*.json"))
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path, help="folder with the sides' JSON files")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scale", default="{}", help="JSON: models, versions and op counts")
    parser.add_argument("--work", type=Path, help="the run's folder, with fill-<system>.json")
    args = parser.parse_args()

    results = [compare(run) for run in load_runs(args.raw)]
    host = machine()
    load = ", ".join(f"{v:.1f}" for v in host["load_average"])
    print(f"machine: {host['cores']} cores, {host['cpu']}; load average now {load}")
    for result in results:
        versions = ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        chunks = result["chunks"]
        print(f"\n== {result['transport']} ({versions}; interleaved in {chunks} chunks) ==")
        print(table(result))

    in_process = next((r for r in results if r["transport"] == "in-process"), None)
    verdict = None
    if in_process is not None:
        rows = in_process["operations"].values()
        verdict = {
            "every_operation_3x": all(r["meets_ratio"] for r in rows),
            "search_p95_under_20ms": all(r["meets_p95"] is not False for r in rows),
        }
        print(
            f"\ntargets (in process): every operation >= {TARGET_RATIO:g}x MLflow: "
            f"{'met' if verdict['every_operation_3x'] else 'NOT met'}; search p95 < "
            f"{TARGET_SEARCH_P95_MS:g} ms: "
            f"{'met' if verdict['search_p95_under_20ms'] else 'NOT met'}"
        )
    common.write_json(
        args.out,
        {
            "benchmark": "registry",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "scale": json.loads(args.scale),
            "fill": fills(args.work),
            "targets": {"ratio": TARGET_RATIO, "search_p95_ms": TARGET_SEARCH_P95_MS},
            "verdict": verdict,
            "results": results,
        },
    )
    print(f"results written to {args.out}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
