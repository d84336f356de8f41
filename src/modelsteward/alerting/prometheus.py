"""Every open alert as a gauge on /metrics, so Prometheus rules can see them.

``steward_alert_firing{rule,model,deployment,severity}`` is the number of open alerts
(firing or acknowledged) of that rule on that deployment; a rule watching many columns
counts each. Reading is one grouped query per scrape; a failure leaves the gauge out
rather than failing the scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from modelsteward.alerting.alerts import OPEN
from modelsteward.alerting.tables import Alert
from modelsteward.context import Steward

log = logging.getLogger(__name__)


class AlertCollector(Collector):
    def __init__(self, steward: Steward) -> None:
        self.steward = steward

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "steward_alert_firing",
            "Open alerts (firing or acknowledged) per rule and deployment.",
            labels=["rule", "model", "deployment", "severity"],
        )
        try:
            with self.steward.db.read() as session:
                rows = session.execute(
                    select(Alert.rule, Alert.model, Alert.deployment, Alert.severity, func.count())
                    .where(Alert.state.in_(OPEN))
                    .group_by(Alert.rule, Alert.model, Alert.deployment, Alert.severity)
                ).all()
        except Exception:  # never fail a scrape because the database hiccups
            log.exception("could not read the open alerts")
            return []
        for rule, model, deployment, severity, count in rows:
            gauge.add_metric([rule, model, deployment, severity], float(count))
        return [gauge]
