"""Alert rules over stored monitor runs: dedup, pending, keep-firing, minimum samples,
no data, silences, inhibition, hand acknowledge and resolve, backtest, and the gauge.

Monitor runs are stored through monitoring's own ``store_outcome`` (the path every real
run takes, which publishes ``monitor.ran``); the dispatcher delivers that event to the
alert evaluation as a server would. What a monitor family computes is tested in
tests/monitoring; here the points are chosen so each rule behaviour is visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from tests.helpers import recorded, settings_for, settle

from modelsteward.alerting import alerts, backtest, rules, silences
from modelsteward.alerting.prometheus import AlertCollector
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.monitoring.families.base import FamilyResult
from modelsteward.monitoring.outcomes import store_outcome
from modelsteward.monitoring.points import Point
from modelsteward.monitoring.service import create_monitor
from modelsteward.store.tables import Deployment, Environment, Model

DEPLOYMENT = "credit-prod"
START = datetime(2026, 12, 1, tzinfo=UTC)


class Fleet:
    """A deployed credit model with a drift and a data-quality monitor, run by hand."""

    def __init__(self, steward: Steward) -> None:
        self.steward = steward
        self.windows = count()
        now = datetime.now(UTC)
        with steward.change("admin") as change:
            session = change.session
            model = Model(
                name="credit",
                owner="admin",
                team="risk",
                risk_tier="high",
                tags={"domain": "lending"},
                created_by="admin",
            )
            env = Environment(name="production", created_by="admin", created_at=now)
            session.add_all([model, env])
            session.flush()
            session.add(
                Deployment(
                    name=DEPLOYMENT,
                    environment_id=env.id,
                    model_id=model.id,
                    created_by="admin",
                    status="serving",
                )
            )
        self.monitors = {
            name: create_monitor(steward, "admin", DEPLOYMENT, name, {"type": kind}).id
            for name, kind in (("data-drift", "data_drift"), ("data-quality", "data_quality"))
        }
        settle(steward)  # the default rules

    def run(self, monitor: str, *points: Point, status: str = "ok") -> None:
        """One monitor run whose window ends one slot after the previous one."""
        end = START + timedelta(minutes=15 * next(self.windows))
        result = FamilyResult(rows=500, start=end - timedelta(hours=1), points=list(points))
        result.status = "breached" if any(p.status == "breached" for p in points) else status
        store_outcome(
            self.steward, self.monitors[monitor], DEPLOYMENT, result, end, end, "test", ""
        )
        settle(self.steward)

    def psi(self, value: float, column: str = "income", n: int = 500) -> Point:
        status = "breached" if value > 0.2 else "ok"
        return Point("psi", value, column, threshold=0.2, status=status, detail={"n": n})

    def open(self, rule: str | None = None) -> list[dict]:
        return alerts.list_alerts(self.steward, rule=rule)

    def sent(self, name: str) -> list[dict]:
        return [e.payload for e in recorded(self.steward, name)]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    instance = Steward(settings_for(tmp_path / "home"))
    ensure_bootstrap_admin(instance)
    yield Fleet(instance)
    instance.close()


def drift_rule(fleet: Fleet, **spec: object) -> str:
    body = {"name": "income-drift", "metric": "psi", "monitor": "data-drift", "column": "income"}
    rules.create_rule(fleet.steward, "admin", {**body, **spec})
    return str(body["name"])


def test_every_monitor_gets_a_default_rule_on_its_own_thresholds(fleet: Fleet) -> None:
    made = {r["name"]: r for r in rules.list_rules(fleet.steward)}
    assert set(made) == {f"{DEPLOYMENT}.data-drift", f"{DEPLOYMENT}.data-quality"}
    drift = made[f"{DEPLOYMENT}.data-drift"]
    assert drift["condition"] == "breached" and drift["origin"] == "default"
    assert drift["scope"] == {
        "deployment": DEPLOYMENT,
        "model": None,
        "risk_tier": None,
        "tag": None,
    }
    fleet.run("data-drift", fleet.psi(0.35))
    (opened,) = fleet.open(f"{DEPLOYMENT}.data-drift")
    assert opened["severity"] == "warning" and opened["column"] == "income"
    assert opened["labels"]["team"] == "risk" and opened["labels"]["tag_domain"] == "lending"
    assert opened["labels"]["environment"] == "production"
    assert "income" in opened["summary"] and "0.35" in opened["summary"]


def test_one_open_alert_per_rule_and_target_however_long_it_breaches(fleet: Fleet) -> None:
    name = drift_rule(fleet, condition="above", threshold=0.25)
    for value in (0.3, 0.4, 0.5, 0.6):
        fleet.run("data-drift", fleet.psi(value), fleet.psi(0.3, column="age"))
    assert len(fleet.open(name)) == 1  # the income column only: the rule names it
    assert len([p for p in fleet.sent("alert.opened") if p["rule"] == name]) == 1


def test_pending_fires_only_after_m_of_the_last_n_windows(fleet: Fleet) -> None:
    name = drift_rule(fleet, pending={"breaches": 2, "of_windows": 3})
    fleet.run("data-drift", fleet.psi(0.3))
    fleet.run("data-drift", fleet.psi(0.1))
    assert fleet.open(name) == []
    fleet.run("data-drift", fleet.psi(0.3))
    (opened,) = fleet.open(name)
    assert "2 of 3 windows" in opened["summary"]


def test_keep_firing_resolves_only_after_the_metric_stays_ok(fleet: Fleet) -> None:
    name = drift_rule(fleet, keep_firing_windows=2)
    fleet.run("data-drift", fleet.psi(0.3))
    for _ in range(2):
        fleet.run("data-drift", fleet.psi(0.1))
        assert fleet.open(name), "still firing within the keep-firing period"
    fleet.run("data-drift", fleet.psi(0.1))
    assert fleet.open(name) == []
    (resolved,) = [p for p in fleet.sent("alert.resolved") if p["rule"] == name]
    assert resolved["by"] is None and "3 ok window" in resolved["reason"]


def test_a_flapping_metric_pages_once_with_keep_firing_and_every_time_without(
    fleet: Fleet,
) -> None:
    drift_rule(fleet)
    rules.create_rule(
        fleet.steward,
        "admin",
        {"name": "no-hysteresis", "metric": "psi", "column": "income", "keep_firing_windows": 0},
    )
    for i in range(20):
        fleet.run("data-drift", fleet.psi(0.3 if i % 2 == 0 else 0.1))
    changes = fleet.sent("alert.opened") + fleet.sent("alert.resolved")
    assert len([p for p in changes if p["rule"] == "income-drift"]) == 1
    assert len([p for p in changes if p["rule"] == "no-hysteresis"]) == 20


def test_a_window_below_min_samples_is_no_data_never_a_breach(fleet: Fleet) -> None:
    name = drift_rule(fleet, min_samples=100)
    fleet.run("data-drift", fleet.psi(0.9, n=20))
    assert fleet.open(name) == []
    fleet.run("data-drift", fleet.psi(0.9, n=200))
    assert len(fleet.open(name)) == 1


def test_no_data_keeps_state_by_default_and_can_itself_alert(fleet: Fleet) -> None:
    kept = drift_rule(fleet)
    rules.create_rule(
        fleet.steward,
        "admin",
        {"name": "silent-model", "metric": "psi", "column": "income", "no_data": "alert"},
    )
    fleet.run("data-drift", fleet.psi(0.1))
    fleet.run("data-drift", status="not enough data")
    assert fleet.open(kept) == []
    (silent,) = fleet.open("silent-model")
    assert "no data" in silent["summary"]


def test_a_silence_mutes_the_notification_but_keeps_the_alert(fleet: Fleet) -> None:
    name = drift_rule(fleet)
    silence = silences.create_silence(
        fleet.steward, "admin", {"matchers": ["team=risk", "rule=~income.*"], "hours": 2}
    )
    fleet.run("data-drift", fleet.psi(0.3))
    (opened,) = fleet.open(name)
    assert opened["suppressed_by"] == f"silence {silence['id']}"
    (event,) = [p for p in fleet.sent("alert.opened") if p["rule"] == name]
    assert event["suppressed_by"] == f"silence {silence['id']}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"matchers": ["team=risk"], "ends_at": "2020-01-01T00:00:00+00:00"}, "ends_at"),
        ({"matchers": [], "hours": 1}, "matchers"),
        ({"matchers": ["team"], "hours": 1}, "matchers"),
        ({"matchers": ["team=risk"]}, "ends_at"),
        ({"matchers": ["team=risk"], "hours": 24 * 365}, "ends_at"),
    ],
)
def test_an_invalid_silence_is_refused_naming_the_field(
    fleet: Fleet, body: dict, field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        silences.create_silence(fleet.steward, "admin", body)
    assert silences.list_silences(fleet.steward, include_ended=True) == []


def test_a_data_quality_alert_on_a_feature_inhibits_its_drift_alert(fleet: Fleet) -> None:
    broken = Point("missing_rate", 0.4, "income", threshold=0.05, status="breached")
    fleet.run("data-quality", broken)
    fleet.run("data-drift", fleet.psi(0.5), fleet.psi(0.5, column="age"))
    (quality,) = fleet.open(f"{DEPLOYMENT}.data-quality")
    drifts = {a["column"]: a for a in fleet.open(f"{DEPLOYMENT}.data-drift")}
    assert drifts["income"]["suppressed_by"] == f"inhibited by alert {quality['id']}"
    assert drifts["age"]["suppressed_by"] is None  # only the broken feature is muted


def test_acknowledge_then_resolve_by_hand_with_a_reason(fleet: Fleet) -> None:
    name = drift_rule(fleet)
    fleet.run("data-drift", fleet.psi(0.3))
    (opened,) = fleet.open(name)
    acked = alerts.acknowledge(fleet.steward, "admin", opened["id"], "looking into it")
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "admin"
    with pytest.raises(Conflict):
        alerts.acknowledge(fleet.steward, "admin", opened["id"])
    with pytest.raises(InvalidInput, match="reason"):
        alerts.resolve(fleet.steward, "admin", opened["id"], "")
    done = alerts.resolve(fleet.steward, "admin", opened["id"], "upstream feed fixed")
    assert done["state"] == "resolved" and done["resolved_by"] == "admin"
    fleet.run("data-drift", fleet.psi(0.3))  # still breaching: a new episode opens
    (again,) = fleet.open(name)
    assert again["id"] != opened["id"]
    assert [p["by"] for p in fleet.sent("alert.acknowledged")] == ["admin"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"condition": "above"}, "threshold"),
        ({"condition": "outside", "low": 1.0}, "low and high"),
        ({"severity": "urgent"}, "severity"),
        ({"pending": {"breaches": 3, "of_windows": 2}}, "pending"),
        ({"name": "bad name\n"}, "rule name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_field(fleet: Fleet, spec: dict, field: str) -> None:
    body = {"name": "r1", "metric": "psi", **spec}
    with pytest.raises(InvalidInput, match=field):
        rules.create_rule(fleet.steward, "admin", body)
    assert "r1" not in {r["name"] for r in rules.list_rules(fleet.steward)}


def test_a_rule_with_alerts_on_record_is_disabled_not_deleted(fleet: Fleet) -> None:
    name = drift_rule(fleet)
    fleet.run("data-drift", fleet.psi(0.3))
    with pytest.raises(Conflict, match="disable"):
        rules.delete_rule(fleet.steward, "admin", name)
    assert rules.update_rule(fleet.steward, "admin", name, {"enabled": False})["enabled"] is False
    rules.create_rule(fleet.steward, "admin", {"name": "unused", "metric": "psi"})
    rules.delete_rule(fleet.steward, "admin", "unused")


def test_backtest_counts_what_a_rule_would_have_sent(fleet: Fleet) -> None:
    name = drift_rule(fleet, enabled=False)  # not live: the backtest alone judges it
    for i in range(12):
        fleet.run("data-drift", fleet.psi(0.3 if i % 2 == 0 else 0.1))
    assert fleet.open(name) == []
    rules.update_rule(fleet.steward, "admin", name, {"keep_firing_windows": 0})
    flapping = backtest.backtest(fleet.steward, name, days=3650 / 10)
    assert flapping["runs"] == 12 and flapping["alerts"] == 6 and flapping["resolved"] == 6
    rules.update_rule(fleet.steward, "admin", name, {"keep_firing_windows": 2})
    steady = backtest.backtest(fleet.steward, name, days=365)
    assert steady["alerts"] == 1 and steady["still_firing"] == 1
    assert steady["without_pending_or_keep_firing"]["alerts"] == 6


def test_open_alerts_are_a_gauge_for_prometheus(fleet: Fleet) -> None:
    fleet.run("data-drift", fleet.psi(0.3), fleet.psi(0.4, column="age"))
    (gauge,) = AlertCollector(fleet.steward).collect()
    (sample,) = gauge.samples
    assert sample.labels == {
        "rule": f"{DEPLOYMENT}.data-drift",
        "model": "credit",
        "deployment": DEPLOYMENT,
        "severity": "warning",
    }
    assert sample.value == pytest.approx(2.0)
