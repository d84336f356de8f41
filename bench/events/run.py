"""Event delivery: commit -> subscriber latency at a steady rate, and dispatch throughput.

    .venv/bin/python bench/events/run.py [--seconds 60] [--rate 200] [--pg URL]

Latency: a writer thread commits ``rate`` changes a second (each one ``model.updated``
event, through ``Steward.change`` as every service does) for ``seconds``; a running
dispatcher (as in ``steward worker``) hands each to a subscriber that notes the time.
Latency is the handling time minus the commit's return. On PostgreSQL the dispatcher is
a second Steward (its own engine and doorbell), so only NOTIFY can wake it at once:
that is the cross-process case. Throughput: ``--backlog`` events committed with no
dispatcher running, then one dispatcher delivers them all to a subscriber that does
nothing; events per second of its passes. Targets (issue 14): p99 <= 250 ms on SQLite,
<= 100 ms on PostgreSQL at 200 events/s; >= 2 000 events/s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber

PAYLOAD = {
    "name": "m",
    "status": "active",
    "description": "",
    "owner": "",
    "team": "",
    "use_case": "",
    "risk_tier": "medium",
    "tags": {},
}


def steward_on(home: Path, db_url: str | None) -> Steward:
    env = {"STEWARD_HOME": str(home)}
    if db_url:
        env["STEWARD_DB_URL"] = db_url
    return Steward(Settings.from_env(env))


def commit(steward: Steward, key: str) -> None:
    with steward.change("bench") as change:
        change.record("model.updated", "model", key, after=PAYLOAD)


def latency(writer: Steward, reader: Steward, seconds: float, rate: float) -> list[float]:
    committed: dict[str, float] = {}
    handled: dict[str, float] = {}

    def note(_: Steward, event: DomainEvent) -> None:
        handled[event.object_id] = time.perf_counter()

    sub = Subscriber("bench.latency", "bench", frozenset({"model.updated"}), note)
    dispatcher = Dispatcher(reader, subscribers=[sub])
    dispatcher.start()
    time.sleep(1.0)  # the listener connects
    n = int(seconds * rate)
    start = time.perf_counter()
    for i in range(n):
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        key = f"k{i}"
        commit(writer, key)
        committed[key] = time.perf_counter()
    deadline = time.perf_counter() + 30
    while len(handled) < n and time.perf_counter() < deadline:
        time.sleep(0.05)
    dispatcher.stop()
    assert len(handled) == n, f"only {len(handled)} of {n} events were handled"
    return [handled[k] - committed[k] for k in committed]


def throughput(steward: Steward, backlog: int) -> float:
    for i in range(backlog):
        commit(steward, f"t{i}")
    seen = [0]

    def nothing(_: Steward, __: DomainEvent) -> None:
        seen[0] += 1

    sub = Subscriber("bench.throughput", "bench", frozenset({"model.updated"}), nothing)
    dispatcher = Dispatcher(steward, subscribers=[sub])
    dispatcher.prepare()
    start = time.perf_counter()
    assert dispatcher.settle(timeout_s=600)
    elapsed = time.perf_counter() - start
    assert seen[0] >= backlog, seen[0]
    return backlog / elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, values: list[float], target_ms: float) -> None:
    p50, p95, p99 = (pct(values, q) * 1000 for q in (0.5, 0.95, 0.99))
    verdict = "met" if p99 <= target_ms else "MISSED"
    print(
        f"{label:<34} n={len(values):>6}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
        f"p99 {p99:6.1f} ms  (target p99 <= {target_ms:g} ms: {verdict}), "
        f"mean {statistics.fmean(values) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL whose role may create databases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sqlite = steward_on(root / "sqlite", None)
        report("SQLite, same process", latency(sqlite, sqlite, args.seconds, args.rate), 250)
        rate = throughput(steward_on(root / "sqlite-backlog", None), args.backlog)
        print(f"{'SQLite dispatch throughput':<34} {rate:8.0f} events/s (target >= 2000)")
        if args.pg:
            name = f"bench_events_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.pg.rsplit("/", 1)[0] + f"/{name}"
            try:
                writer, reader = steward_on(root / "pg-w", url), steward_on(root / "pg-r", url)
                report(
                    "PostgreSQL, NOTIFY across engines",
                    latency(writer, reader, args.seconds, args.rate),
                    100,
                )
                rate = throughput(writer, args.backlog)
                print(
                    f"{'PostgreSQL dispatch throughput':<34} {rate:8.0f} events/s (target >= 2000)"
                )
                writer.close()
                reader.close()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
