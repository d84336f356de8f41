"""Twelve past hours of credit applications, so the demo's monitoring charts have a history.

A fresh demo has no past, so the seed writes one through the prediction log's own
writer: applicants drawn as at training for the first hours, then a steadily poorer
population, each predicted by the deployed model itself, with ground truth posted
for them by business key. The monitors then run once per past hour (as their
schedule would have), so each chart shows a drift growing past its threshold.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from modelsteward.context import Steward
from modelsteward.demo.credit import applicants
from modelsteward.monitoring.runner import run_monitor
from modelsteward.monitoring.service import list_monitors
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.serving.scoring import answering

HOURS = 12
PER_HOUR = 60
DRIFT_STARTS = 5  # hours ago: the population begins to change


def shift_at(hours_ago: int) -> float:
    """0 until ``DRIFT_STARTS`` hours ago, then a quarter more each hour."""
    return max(0.0, (DRIFT_STARTS - hours_ago + 1) * 0.25)


def write_history(
    steward: Steward, deployment: str, model: Any, version: int, now: datetime
) -> list[dict[str, Any]]:
    """Log ``HOURS`` hours of predictions ending an hour before ``now``; returns the labels."""
    rng = random.Random(31)
    labels: list[dict[str, Any]] = []
    top_of_hour = now.replace(minute=0, second=0, microsecond=0)
    answer = answering(model)  # as served: the class and its probability
    with PredictionLog(steward.settings.logs_url) as log:
        for ago in range(HOURS, 0, -1):
            start = top_of_hour - timedelta(hours=ago)
            frame, repaid, _ = applicants(PER_HOUR, seed=100 + ago, shift=shift_at(ago))
            outputs = answer(frame).log_rows() if answer else model.predict(frame).tolist()
            for i, record in enumerate(frame.to_dict("records")):
                key = f"history-{ago}-{i}"
                log.record(
                    PredictionRecord(
                        request_id=uuid.uuid4().hex,
                        at=start + timedelta(seconds=rng.uniform(0, 3599)),
                        deployment=deployment,
                        model="credit-approval",
                        version=version,
                        route="champion",
                        inputs=[record],
                        outputs=[outputs[i]],
                        latency_ms=rng.lognormvariate(1.1, 0.35),
                        status=200,
                        key=key,
                    )
                )
                labels.append({"key": key, "label": int(repaid.iloc[i])})
    return labels


def run_past_hours(
    steward: Steward, deployment: str, now: datetime, say: Callable[[str], None]
) -> int:
    """Each monitor over each past hour, oldest first, as if its schedule had run."""
    top_of_hour = now.replace(minute=0, second=0, microsecond=0)
    runs = 0
    monitors = list_monitors(steward, deployment)
    for ago in range(HOURS - 1, -1, -1):
        at = top_of_hour - timedelta(hours=ago)
        for monitor in monitors:
            run_monitor(steward, monitor.id, now=at, trigger="schedule")
            runs += 1
    say(f"  ran {len(monitors)} monitors over each of the past {HOURS} hours ({runs} runs)")
    return runs


def utc_now() -> datetime:
    return datetime.now(UTC)
