"""An ``alert.opened`` committed -> the notification arrives at a local webhook receiver.

Runs a steward as a server's worker does (the event dispatcher and the scheduled jobs,
in threads), a real HTTP receiver on 127.0.0.1, and a webhook channel; commits ALERTS
alert events one at a time, PAUSE_S apart, and measures from each commit to the arrival
of the message carrying it. Once with group wait 0 (target p95 <= 1 s) and once with
GROUP_WAIT_S (target p95 <= W + 1 s; alerts of one rule and model share messages).

    .venv/bin/python bench/notifications/run.py       # ALERTS=200 GROUP_WAIT_S=2
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from modelsteward.alerting.channels.service import create_channel
from modelsteward.alerting.channels.tables import Notification
from modelsteward.alerting.channels.trial import SAMPLE
from modelsteward.background import background_work
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher

ALERTS = int(os.environ.get("ALERTS", "200"))
GROUP_WAIT_S = float(os.environ.get("GROUP_WAIT_S", "2"))
PAUSE_S = float(os.environ.get("PAUSE_S", "0.02"))
RULES = 5
WARM_UP = 5


def notified(steward: Steward, count: int) -> bool:
    with steward.db.query() as conn:
        delivered = conn.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == "delivered")
        )
    return (delivered or 0) >= count


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.messages = 0
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                now = time.time()
                with arrivals.lock:
                    arrivals.messages += 1
                    for alert in body["alerts"]:
                        arrivals.at.setdefault(alert["alert_id"], now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def payload(alert_id: int) -> dict[str, Any]:
    """The channels' sample alert, one per id, spread over ``RULES`` rules."""
    rule = alert_id % RULES
    update = {"alert_id": alert_id, "rule": f"rule-{rule}", "rule_id": rule}
    return SAMPLE.model_copy(update={**update, "column": f"c{alert_id}"}).model_dump()


def receive(port: multiprocessing.connection.Connection, done: Any) -> None:
    """The receiver, in a process of its own (as a real one is): answers, then reports
    each alert's first arrival (wall clock) when told to stop."""
    arrivals = Arrivals()
    server = ThreadingHTTPServer(("127.0.0.1", 0), arrivals.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port.send(server.server_address[1])
    done.wait()
    with arrivals.lock:
        port.send((dict(arrivals.at), arrivals.messages))
    server.shutdown()


def run(group_wait_s: float) -> dict[str, Any]:
    here, there = multiprocessing.Pipe()
    done = multiprocessing.Event()
    receiver = multiprocessing.Process(target=receive, args=(there, done), daemon=True)
    receiver.start()
    port = here.recv()
    home = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    steward = Steward(
        Settings.from_env(
            {
                "STEWARD_HOME": str(home),
                "STEWARD_ALLOW_NETWORKS": "127.0.0.0/8",
                "STEWARD_SCHEDULER_SECONDS": "0.5",
            }
        )
    )
    url = f"http://127.0.0.1:{port}/hook"
    create_channel(
        steward,
        "bench",
        {"name": "bench", "kind": "webhook", "config": {"url": url}, "group_wait_s": group_wait_s},
    )
    scheduler, dispatcher = background_work(steward), Dispatcher(steward, scopes=("cluster",))
    scheduler.start()
    dispatcher.start()
    committed: dict[int, float] = {}
    try:
        for alert_id in range(-WARM_UP, ALERTS + 1):  # ids <= 0 warm the process up
            with steward.change("bench") as change:
                change.record("alert.opened", "alert", alert_id, payload=payload(alert_id))
            committed[alert_id] = time.time()
            time.sleep(PAUSE_S if alert_id > 0 else 0.5)
        deadline = time.monotonic() + 120 + group_wait_s
        while not notified(steward, ALERTS + WARM_UP + 1) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        scheduler.stop()
        steward.close()
        done.set()
        arrived, messages = here.recv()
        receiver.join(10)
    arrivals = Arrivals()
    arrivals.at, arrivals.messages = arrived, messages
    latencies = sorted(
        arrivals.at[i] - committed[i] for i in range(1, ALERTS + 1) if i in arrivals.at
    )
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "group_wait_s": group_wait_s,
        "alerts": ALERTS,
        "arrived": len(latencies),
        "messages": arrivals.messages - sum(1 for i in arrivals.at if i <= 0),
        "p50_s": round(q[49], 3),
        "p95_s": round(q[94], 3),
        "max_s": round(latencies[-1], 3),
        "target_p95_s": group_wait_s + 1.0,
    }


def main() -> None:
    results = [run(0.0), run(GROUP_WAIT_S)]
    for r in results:
        verdict = (
            "ok" if r["arrived"] == r["alerts"] and r["p95_s"] <= r["target_p95_s"] else "MISSED"
        )
        print(
            f"group wait {r['group_wait_s']:g} s: {r['arrived']}/{r['alerts']} alerts in "
            f"{r['messages']} messages; p50 {r['p50_s']} s, p95 {r['p95_s']} s, "
            f"max {r['max_s']} s (target p95 <= {r['target_p95_s']:g} s: {verdict})"
        )
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "notifications.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
