"""Event delivery on ``/metrics``: each subscriber's lag and its waiting and dead deliveries.

``steward_event_deliveries{subscriber,state}`` counts deliveries that did not succeed
at once (``state`` is pending or failed, the dead letter), so an alert rule can match
``steward_event_deliveries{state="failed"} > 0``; ``steward_event_lag`` is how many
events a cluster subscriber is behind the outbox head. A failed query leaves them out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from modelsteward.events.service import subscriber_status

if TYPE_CHECKING:
    from modelsteward.context import Steward

log = logging.getLogger(__name__)


class EventCollector(Collector):
    def __init__(self, steward: Steward) -> None:
        self.steward = steward

    def collect(self) -> Iterable[Metric]:
        waiting = GaugeMetricFamily(
            "steward_event_deliveries",
            "Event deliveries waiting for a retry (pending) or dead-lettered (failed).",
            labels=["subscriber", "state"],
        )
        lag = GaugeMetricFamily(
            "steward_event_lag",
            "Events committed that a cluster subscriber has not handled yet.",
            labels=["subscriber"],
        )
        try:
            rows = subscriber_status(self.steward)
        except Exception:  # /metrics must answer even when the database does not
            log.exception("event metrics unavailable")
            return
        for row in rows:
            for state in ("pending", "failed"):
                waiting.add_metric([row["name"], state], row[state])
            if row["behind"] is not None:
                lag.add_metric([row["name"]], row["behind"])
        yield waiting
        yield lag
