"""The points of each monitor's latest run, as Prometheus gauges at scrape time.

``steward_monitor_metric`` carries the value and ``steward_monitor_status`` is 1 for the
point's status (its ``status`` label: ok, breached, not enough data...), so an alert rule
can match ``steward_monitor_status{status="breached"} == 1``. A run without points (not
enough data) leaves the previous run's points in place. Reading the database per scrape
is one indexed query; a failure leaves the gauges out rather than failing /metrics.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select

from modelsteward.context import Steward
from modelsteward.monitoring.tables import MetricPoint, Monitor
from modelsteward.store.tables import Deployment

log = logging.getLogger(__name__)
LABELS = ["deployment", "monitor", "metric", "column", "segment"]


class MonitorCollector(Collector):
    def __init__(self, steward: Steward) -> None:
        self.steward = steward

    def latest(self) -> list[tuple[str, str, str, str, str, float | None, str]]:
        query = (
            select(
                Deployment.name,
                Monitor.name,
                MetricPoint.metric,
                MetricPoint.column_name,
                MetricPoint.segment,
                MetricPoint.value,
                MetricPoint.status,
            )
            .join(Monitor, Monitor.points_run_id == MetricPoint.run_id)
            .join(Deployment, Deployment.id == Monitor.deployment_id)
            .where(Monitor.enabled.is_(True))
            .order_by(Deployment.name, Monitor.name, MetricPoint.metric, MetricPoint.column_name)
        )
        with self.steward.db.read() as session:
            return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]

    def collect(self) -> Iterable[Metric]:
        value = GaugeMetricFamily(
            "steward_monitor_metric", "Latest value of a monitor's metric.", labels=LABELS
        )
        status = GaugeMetricFamily(
            "steward_monitor_status",
            "1 for the status of a monitor metric's latest point.",
            labels=[*LABELS, "status"],
        )
        try:
            rows = self.latest()
        except Exception:  # never fail a scrape because the database hiccups
            log.exception("could not read the latest metric points")
            return []
        for deployment, monitor, metric, column, segment, number, state in rows:
            labels = [deployment, monitor, metric, column, segment]
            if number is not None and math.isfinite(number):
                value.add_metric(labels, number)
            status.add_metric([*labels, state], 1.0)
        return [value, status]
