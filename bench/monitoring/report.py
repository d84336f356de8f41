"""Print the side-by-side table with ratios and targets; write bench/results/monitoring.json.

python report.py RUNS.json SIZES.json OUT.json
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

TARGET_FLOOR_RATIO = 1.5  # modelsteward end to end within 1.5x of the floor
TARGET_MONITOR_SPEEDUP = 2.0  # monitor run vs floor
TARGET_MEMORY_RATIO = 1.5  # peak memory vs the data's own size
TARGET_BIG_MIB = 1024.0
MEMORY_TARGET_ROWS = 1_000_000  # below this an idle interpreter outweighs the data


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    runs = json.loads(Path(sys.argv[1]).read_text())
    sizes = json.loads(Path(sys.argv[2]).read_text())
    by: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        by.setdefault((run["size"], run["label"]), []).append(run)

    def seconds(size: str, label: str) -> float | None:
        found = by.get((size, label))
        return statistics.median(r["seconds"] for r in found) if found else None

    def peak(size: str, label: str) -> float | None:
        found = by.get((size, label))
        return max(r["peak_mib"] for r in found) if found else None

    summary: dict = {"sizes": {}, "targets": []}
    for size, info in sizes.items():
        if info.get("big"):
            continue
        floor = seconds(size, "floor")
        data_mib = info["data_mib"]
        print(
            f"\n{size} rows x 27 columns: data {data_mib:.0f} MiB in memory (both files), "
            f"Parquet {info['parquet_mib']:.0f} MiB on disk"
        )
        print(f"  {'system':<30}{'seconds':>9}{'x floor':>9}{'peak MiB':>10}{'x data':>8}")
        table = {}
        labels = sorted(
            {label for (s, label) in by if s == size},
            key=lambda name: (name != "floor", name.startswith("peer"), name),
        )
        for label in labels:
            sec, mib = seconds(size, label), peak(size, label)
            ratio = sec / floor if floor and sec else None
            table[label] = {
                "seconds": sec,
                "x_floor": ratio,
                "peak_mib": mib,
                "x_data": mib / data_mib if mib else None,
            }
            shown = f"{ratio:9.2f}" if ratio else f"{'':>9}"
            print(f"  {label:<30}{sec:9.2f}{shown}{mib:10.0f}{mib / data_mib:8.2f}")
        summary["sizes"][size] = {"data_mib": data_mib, "systems": table}
        if floor:
            for label in ("steward report (CLI)", "steward build_report (Python)"):
                if label in table:
                    r = table[label]["x_floor"]
                    summary["targets"].append(
                        (
                            f"{size}: {label} within {TARGET_FLOOR_RATIO}x of floor",
                            f"{r:.2f}x",
                            verdict(r <= TARGET_FLOOR_RATIO),
                        )
                    )
                    m = table[label]["x_data"]
                    if int(size) >= MEMORY_TARGET_ROWS:
                        summary["targets"].append(
                            (
                                f"{size}: {label} peak < {TARGET_MEMORY_RATIO}x data",
                                f"{m:.2f}x",
                                verdict(m < TARGET_MEMORY_RATIO),
                            )
                        )
            if "steward monitor (profile)" in table:
                speed = floor / table["steward monitor (profile)"]["seconds"]
                summary["targets"].append(
                    (
                        f"{size}: monitor run >= {TARGET_MONITOR_SPEEDUP}x faster than floor",
                        f"{speed:.2f}x",
                        verdict(speed >= TARGET_MONITOR_SPEEDUP),
                    )
                )
            for peer in ("peer evidently", "peer nannyml", "peer whylogs"):
                if peer in table and "steward report (CLI)" in table:
                    speed = table[peer]["seconds"] / table["steward report (CLI)"]["seconds"]
                    summary["targets"].append(
                        (f"{size}: steward report vs {peer[5:]}", f"{speed:.1f}x faster", "info")
                    )
    for size, info in sizes.items():
        if not info.get("big"):
            continue
        mib = peak(size, "steward monitor (profile, streamed)")
        sec = seconds(size, "steward monitor (profile, streamed)")
        if mib is not None:
            print(f"\n{size}-row window, streamed against a stored profile:")
            print(f"  {sec:.1f} s, peak {mib:.0f} MiB")
            summary["sizes"][size] = {"seconds": sec, "peak_mib": mib}
            summary["targets"].append(
                (
                    f"{size}-row window peak < {TARGET_BIG_MIB:.0f} MiB",
                    f"{mib:.0f} MiB",
                    verdict(mib < TARGET_BIG_MIB),
                )
            )
    print("\ntargets")
    for name, value, met in summary["targets"]:
        print(f"  {name:<62}{value:>14}  {met}")
    load = os.getloadavg()
    print(
        f"\nload average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; per-run load in the JSON; "
        f"{os.cpu_count()} cores"
    )
    summary.update(
        when=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={"python": platform.python_version(), "cores": os.cpu_count(), "load": load},
        runs=runs,
    )
    Path(sys.argv[3]).parent.mkdir(parents=True, exist_ok=True)
    Path(sys.argv[3]).write_text(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
