"""A monitor's breach reaches the life cycle: the version it names moves to review."""

from __future__ import annotations

import httpx
from tests.helpers import settle
from tests.monitoring.test_runner import deploy_churn

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.store import save_definition
from modelsteward.lifecycle.views import RuleSpec

WATCHED = """
name: watched
initial: live
states:
  - {name: live, production: true}
  - {name: review}
  - {name: retired, terminal: true}
transitions:
  - {name: breach, from: live, to: review, trigger: "event:metric.breached"}
  - {name: retire, from: [live, review], to: retired}
"""


def test_drift_breached_by_a_monitor_moves_the_served_version_to_review(
    api: httpx.Client, steward: Steward
) -> None:
    save_definition(steward, WATCHED, "yaml", SYSTEM)
    put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition="watched")])
    d = deploy_churn(api, steward)
    assert version_lifecycle(steward, "churn", 1).state == "live"
    d.patch("data-drift", window={"last": 300}, method_thresholds={"ks": 0.01})

    d.send(300)
    assert d.run("data-drift")["status"] == "ok"
    assert version_lifecycle(steward, "churn", 1).state == "live"

    d.send(300, shift=30)
    assert "metric.breached" in d.run("data-drift")["events"]
    settle(steward)  # the server's dispatcher hands the breach to the life cycle
    instance = version_lifecycle(steward, "churn", 1)
    assert instance.state == "review"
    moved = [h for h in instance.history if h.transition == "breach"]
    assert moved and moved[0].outcome == "applied" and "metric.breached" in moved[0].reason
