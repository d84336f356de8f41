"""Print the serving tables, ratios and verdicts; write ``bench/results/serving.json``.

Standard library only. Reads the raw file ``drive.py`` wrote. Each figure is the median
over the rounds of the round's figure (p50: nearest-rank percentile of the window's
latencies; req/s: requests completed over the seconds the window lasted; CPU ms per
request: the server's CPU time in the window over its requests), except p99, taken over
the requests of all rounds together. Ratios are modelsteward's figure divided by the
other system's: for milliseconds lower is better, for req/s and rows/s higher is
better. A ratio is the median of the ratios taken round by round (the
systems are measured seconds apart within a round); ``rounds`` is their range, which
shows how much the machine's noise moved it. The costs of the log and of a shadow are
relative changes, median and range over the rounds likewise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

PEERS = ("floor", "mlflow", "bentoml")
STEWARD = "modelsteward"
SHADOW, FLIPPED = "steward: shadow", "steward: batching flipped"
LOG_ON, LOG_OFF = "steward: log on", "steward: log off"  # one server, its log switched
# (label, measure, figure, higher is better)
ROWS = (
    ("c=1 p50 ms", "c1", "p50_ms", False),
    ("c=1 p99 ms", "c1", "p99_ms", False),
    ("c=1 req/s", "c1", "req_per_s", True),
    ("c=8 req/s", "c8", "req_per_s", True),
    ("c=32 req/s", "c32", "req_per_s", True),
    ("1000-row rows/s", "batch", "rows_per_s", True),
    ("c=8 CPU ms/req", "c8", "cpu_ms_per_req", False),
    ("batch CPU ms/req", "batch", "cpu_ms_per_req", False),
)
# Targets against the floor: (measure, figure) -> (bound, at most?)
TARGETS = {
    ("c1", "p50_ms"): (1.5, True),
    ("c8", "req_per_s"): (0.7, False),
    ("c32", "req_per_s"): (0.7, False),
    ("batch", "rows_per_s"): (0.8, False),
}
BATCHING_TARGET = 3.0  # RandomForest c=32 req/s with adaptive batching, vs the floor
LOG_COST_TARGET = 0.10
SHADOW_COST_TARGET = 0.10


def summary(windows: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    """Each figure is the median over rounds, except p99, taken over every request.

    Pooling the latencies of all rounds would weight each round by how many requests
    it completed, so a fast system's pooled p50 would lean to its quietest round; the
    median of rounds does not. p99 needs the pooled requests to mean anything.
    """
    rounds = []
    for window in windows:
        one = common.summarise([v / 1000 for v in window["latencies_ms"]], window["seconds"], rows)
        one["cpu_ms_per_req"] = window["server_cpu_s"] * 1000 / one["n"] if one["n"] else math.nan
        rounds.append(one)
    pooled = common.summarise(
        [v / 1000 for w in windows for v in w["latencies_ms"]],
        sum(w["seconds"] for w in windows),
        rows,
    )
    result: dict[str, Any] = {
        name: statistics.median(r[name] for r in rounds)
        for name in ("req_per_s", "rows_per_s", "p50_ms", "mean_ms", "cpu_ms_per_req")
    }
    result.update(n=pooled["n"], p99_ms=pooled["p99_ms"], max_ms=pooled["max_ms"])
    result["rounds"] = rounds
    return result


def summarise_all(raw: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    rows = {k: common.BATCH_ROWS if v["rows"] == "batch" else 1 for k, v in raw["measures"].items()}
    return {
        system: {
            model: {measure: summary(windows, rows[measure]) for measure, windows in per.items()}
            for model, per in models.items()
        }
        for system, models in raw["systems"].items()
    }


def figure(figures: dict[str, Any], system: str, model: str, measure: str, name: str) -> float:
    try:
        return float(figures[system][model][measure][name])
    except KeyError:
        return math.nan


def round_ratios(
    figures: dict[str, Any], a: str, b: str, model: str, measure: str, name: str
) -> list[float]:
    """a/b round by round: both measured within seconds of each other in every round."""
    try:
        ra, rb = figures[a][model][measure]["rounds"], figures[b][model][measure]["rounds"]
    except KeyError:
        return []
    return [x[name] / y[name] for x, y in zip(ra, rb, strict=True) if name in x and y[name]]


def ratio(figures: dict[str, Any], a: str, b: str, model: str, measure: str, name: str) -> float:
    """The median of the per-round ratios; p99 (pooled only) as a ratio of pooled figures."""
    ratios = round_ratios(figures, a, b, model, measure, name) if name != "p99_ms" else []
    if ratios:
        return statistics.median(ratios)
    return figure(figures, a, model, measure, name) / figure(figures, b, model, measure, name)


def fmt(value: float, digits: int = 0) -> str:
    """Milliseconds and ratios with decimals, rates whole with a thin thousands gap."""
    if math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}".replace(",", " ")


def spread(values: list[float]) -> str:
    """The per-round range of a relative change, when there is more than one round."""
    return f", rounds {min(values):+.0%}..{max(values):+.0%}" if len(values) > 1 else ""


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "MISSED")


def model_table(figures: dict[str, Any], model: str) -> tuple[str, dict[str, Any]]:
    present = [s for s in (*PEERS[:1], STEWARD, *PEERS[1:]) if s in figures]
    head = (
        f"{'':<17}"
        + "".join(f"{s:>13}" for s in present)
        + f"{'÷floor':>8} {'(rounds)':>11}{'÷mlflow':>9}{'÷bentoml':>9}  target vs floor"
    )
    lines = [head, "-" * len(head)]
    checks: dict[str, Any] = {}
    for label, measure, name, _higher in ROWS:
        values = [figure(figures, s, model, measure, name) for s in present]
        ratios = {p: ratio(figures, STEWARD, p, model, measure, name) for p in PEERS}
        each = round_ratios(figures, STEWARD, "floor", model, measure, name)
        spread = [min(each), max(each)] if each and name != "p99_ms" else [math.nan, math.nan]
        target = TARGETS.get((measure, name))
        check = ""
        if target is not None:
            bound, at_most = target
            met = ratios["floor"] <= bound if at_most else ratios["floor"] >= bound
            checks[f"{measure} {name}"] = {
                "ratio_vs_floor": ratios["floor"],
                "bound": bound,
                "at_most": at_most,
                "met": met,
            }
            check = f"{'<=' if at_most else '>='}{bound:g}x {verdict(met)}"
        decimals = 2 if "ms" in name else 0
        rounds = "" if math.isnan(spread[0]) else f"{spread[0]:.2f}-{spread[1]:.2f}"
        lines.append(
            f"{label:<17}"
            + "".join(f"{fmt(v, decimals):>13}" for v in values)
            + f"{fmt(ratios['floor'], 2):>8} {rounds:>11}"
            + f"{fmt(ratios['mlflow'], 2):>9}{fmt(ratios['bentoml'], 2):>9}  {check}".rstrip()
        )
    return "\n".join(lines), checks


def variants(
    figures: dict[str, Any], model: str, batching: str
) -> tuple[list[str], dict[str, Any]]:
    lines: list[str] = []
    found: dict[str, Any] = {}
    if LOG_ON in figures and LOG_OFF in figures:
        parts = []
        costs = {}
        for measure, name, label in (
            ("c8", "req_per_s", "c=8"),
            ("c32", "req_per_s", "c=32"),
            ("batch", "rows_per_s", "batch"),
        ):
            on = figure(figures, LOG_ON, model, measure, name)
            off = figure(figures, LOG_OFF, model, measure, name)
            costs[measure] = 1 - ratio(figures, LOG_ON, LOG_OFF, model, measure, name)
            each = [1 - r for r in round_ratios(figures, LOG_ON, LOG_OFF, model, measure, name)]
            parts.append(f"{label} {fmt(on)} vs {fmt(off)} ({costs[measure]:+.0%}{spread(each)})")
        worst = max(costs.values())
        found["log_cost"] = {"by_measure": costs, "worst": worst, "met": worst < LOG_COST_TARGET}
        lines.append(
            f"  prediction log, on vs off in one server: {'; '.join(parts)}  "
            f"cost <{LOG_COST_TARGET:.0%}: {verdict(worst < LOG_COST_TARGET)}"
        )
    if SHADOW in figures:
        plain = figure(figures, STEWARD, model, "c1", "p50_ms")
        shadow = figure(figures, SHADOW, model, "c1", "p50_ms")
        plain99 = figure(figures, STEWARD, model, "c1", "p99_ms")
        shadow99 = figure(figures, SHADOW, model, "c1", "p99_ms")
        added = ratio(figures, SHADOW, STEWARD, model, "c1", "p50_ms") - 1
        each = [r - 1 for r in round_ratios(figures, SHADOW, STEWARD, model, "c1", "p50_ms")]
        c8 = ratio(figures, SHADOW, STEWARD, model, "c8", "req_per_s")
        found["shadow_added_latency"] = {
            "p50": added,
            "p99": shadow99 / plain99 - 1,
            "c8_req_per_s_ratio": c8,
            "met": added < SHADOW_COST_TARGET,
        }
        lines.append(
            f"  shadow mirroring, caller's latency: p50 {plain:.2f} -> {shadow:.2f} ms "
            f"({added:+.0%}{spread(each)}), p99 {plain99:.2f} -> {shadow99:.2f} ms; "
            f"c=8 req/s x{c8:.2f}  "
            f"adds <{SHADOW_COST_TARGET:.0%}: {verdict(added < SHADOW_COST_TARGET)}"
        )
    on_system = {"on": STEWARD, "off": FLIPPED}.get(batching)
    off_system = {"on": FLIPPED, "off": STEWARD}.get(batching)
    if on_system in figures and off_system in figures:
        parts = []
        for measure, name, label in (
            ("c1", "p50_ms", "c=1 p50 ms"),
            ("c8", "req_per_s", "c=8 req/s"),
            ("c32", "req_per_s", "c=32 req/s"),
        ):
            digits = 2 if "ms" in name else 0
            off = figure(figures, off_system, model, measure, name)
            on = figure(figures, on_system, model, measure, name)
            parts.append(f"{label} {fmt(off, digits)} -> {fmt(on, digits)}")
        lines.append(f"  adaptive batching, off -> on: {'; '.join(parts)}")
    if on_system in figures:
        found["batching_on_c32_vs_floor"] = ratio(
            figures, on_system, "floor", model, "c32", "req_per_s"
        )
    return lines, found


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
        "load_average": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--versions", default="{}", help="JSON: system -> version")
    parser.add_argument("--batching", default="absent", help="steward's default: on/off/absent")
    parser.add_argument("--load-before", default="", help="load average when the run began")
    args = parser.parse_args()

    raw = json.loads(args.raw.read_text())
    figures = summarise_all(raw)
    versions = json.loads(args.versions)
    host = machine()
    load = ", ".join(f"{v:.1f}" for v in host["load_average"])
    print(
        f"machine: {host['cores']} cores, {host['cpu']}; load average before "
        f"{args.load_before or '?'}, now {load}"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(
        f"{raw['rounds']} rounds x {raw['window_s']:g} s windows per system and measurement; "
        f"modelsteward's adaptive batching by default: {args.batching}"
    )
    print(
        "ratios are modelsteward / other: for ms lower is better, for req/s and rows/s "
        "higher is better"
    )
    results: dict[str, Any] = {}
    for model in common.MODELS:
        table, checks = model_table(figures, model)
        lines, found = variants(figures, model, args.batching)
        print(f"\n== {common.MODEL_LABELS[model]} ==")
        print(table)
        for line in lines:
            print(line)
        results[model] = {
            "figures": figures_of(figures, model),
            "ratios_by_round": ratios_by_round(figures, model),
            "targets": checks,
            **found,
        }

    verdicts = overall(results, args.batching)
    print("\ntargets:")
    for line in verdicts["lines"]:
        print(f"  {line}")
    common.write_json(
        args.out,
        {
            "benchmark": "serving",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "load_average_before": args.load_before,
            "versions": versions,
            "steward_batching_default": args.batching,
            "rounds": raw["rounds"],
            "window_s": raw["window_s"],
            "measures": raw["measures"],
            "results": results,
            "verdicts": {k: v for k, v in verdicts.items() if k != "lines"},
        },
    )
    print(f"results written to {args.out}")
    return 0


def figures_of(figures: dict[str, Any], model: str) -> dict[str, Any]:
    """Every system's figures for ``model``, with its per-round figures trimmed."""
    kept = ("req_per_s", "p50_ms", "p99_ms", "cpu_ms_per_req", "n")
    return {
        system: {
            measure: {
                **{k: v for k, v in values.items() if k != "rounds"},
                "by_round": [{k: r[k] for k in kept} for r in values["rounds"]],
            }
            for measure, values in per[model].items()
        }
        for system, per in figures.items()
    }


def ratios_by_round(figures: dict[str, Any], model: str) -> dict[str, Any]:
    """modelsteward / each peer, round by round, for every row of the table."""
    return {
        f"{measure} {name}": {
            peer: round_ratios(figures, STEWARD, peer, model, measure, name) for peer in PEERS
        }
        for _, measure, name, _ in ROWS
        if name != "p99_ms"
    }


def overall(results: dict[str, Any], batching: str) -> dict[str, Any]:
    lines = []
    out: dict[str, Any] = {}

    def line(key: str, text: str, values: dict[str, float], met: bool | None) -> None:
        shown = ", ".join(f"{m.upper()} {v:.2f}" for m, v in values.items())
        word = "n/a" if met is None else "met" if met else "NOT met"
        lines.append(f"{text}: {shown}  -> {word}")
        out[key] = {"values": values, "met": met}

    for key, text in (
        ("c1 p50_ms", "single-row p50 <= 1.5x the floor"),
        ("c8 req_per_s", "req/s at c=8 >= 0.7x the floor"),
        ("c32 req_per_s", "req/s at c=32 >= 0.7x the floor"),
        ("batch rows_per_s", "1000-row batches rows/s >= 0.8x the floor"),
    ):
        checks = {m: r["targets"][key] for m, r in results.items() if key in r["targets"]}
        line(
            key,
            text,
            {m: c["ratio_vs_floor"] for m, c in checks.items()},
            all(c["met"] for c in checks.values()) if checks else None,
        )
    rf = results.get("rf", {})
    if "batching_on_c32_vs_floor" in rf:
        value = rf["batching_on_c32_vs_floor"]
        line(
            "rf_batching_c32",
            "RF c=32 req/s with adaptive batching >= 3x the floor",
            {"rf": value},
            value >= BATCHING_TARGET,
        )
    else:
        value = rf["targets"]["c32 req_per_s"]["ratio_vs_floor"] if rf else math.nan
        line(
            "rf_batching_c32",
            "RF c=32 req/s >= 3x the floor (this build has no adaptive batching)",
            {"rf": value},
            value >= BATCHING_TARGET,
        )
    costs = {m: r["log_cost"]["worst"] for m, r in results.items() if "log_cost" in r}
    if costs:
        line(
            "log_cost",
            "prediction logging costs < 10% of throughput (worst of c=8, c=32, batch)",
            costs,
            all(v < LOG_COST_TARGET for v in costs.values()),
        )
    added = {
        m: r["shadow_added_latency"]["p50"]
        for m, r in results.items()
        if "shadow_added_latency" in r
    }
    if added:
        line(
            "shadow_cost",
            "shadow mirroring adds < 10% to the caller's p50 (c=1)",
            added,
            all(v < SHADOW_COST_TARGET for v in added.values()),
        )
    out["lines"] = lines
    return out


if __name__ == "__main__":
    sys.exit(main())
