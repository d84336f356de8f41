"""Monitors over real logged predictions: points, statuses, breach and recovery events, claims.

A real scikit-learn model is registered with its training data (so its version carries a
baseline profile), deployed, and sent traffic through the live server; monitors then read
the prediction log that traffic wrote.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select, update
from tests.helpers import admin_token_of, outbox_head, recorded, training_frame, wait_delivered

from modelsteward.context import Steward
from modelsteward.events.domain import DomainEvent
from modelsteward.monitoring.runner import next_slot, run_due_monitors, run_monitor
from modelsteward.monitoring.service import create_monitor, list_monitors
from modelsteward.monitoring.tables import MetricPoint, Monitor, MonitorRun
from modelsteward.sdk.client import Client
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.store.tables import Deployment, Environment, Model

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

DEPLOYMENT = "churn-production"


@dataclass
class Deployed:
    """A deployed churn model, its live API, and the monitors it was given."""

    api: httpx.Client
    steward: Steward
    monitors: dict[str, int]
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(7))
    since: int = 0

    @property
    def events(self) -> list[DomainEvent]:
        """The breaches and recoveries committed since the deployment was made."""
        return recorded(self.steward, "metric.breached", "metric.recovered", after=self.since)

    def rows(self, n: int, shift: float = 0.0) -> list[dict[str, Any]]:
        ages = self.rng.integers(18, 90, n)
        incomes = self.rng.normal(50 + shift, 10, n)
        return [{"age": int(a), "income": float(i)} for a, i in zip(ages, incomes, strict=True)]

    def send(self, n: int, shift: float = 0.0) -> None:
        """One request of ``n`` rows."""
        response = self.api.post(
            f"/api/v1/deployments/{DEPLOYMENT}/predict", json=self.rows(n, shift)
        )
        assert response.status_code == 200, response.text

    def send_each(self, n: int, shift: float = 0.0) -> list[tuple[str, dict[str, Any], int]]:
        """``n`` requests of one row: (request id, row, prediction)."""
        sent = []
        for row in self.rows(n, shift):
            body = self.api.post(f"/api/v1/deployments/{DEPLOYMENT}/predict", json=[row]).json()
            sent.append((body["request_id"], row, body["predictions"][0]))
        return sent

    def patch(self, monitor: str, **spec: Any) -> dict[str, Any]:
        response = self.api.patch(f"/api/v1/monitors/{self.monitors[monitor]}", json={"spec": spec})
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, monitor: str) -> dict[str, Any]:
        response = self.api.post(f"/api/v1/monitors/{self.monitors[monitor]}/run")
        assert response.status_code == 200, response.text
        return response.json()


def wait_applied(api: httpx.Client, revision: dict[str, Any]) -> None:
    """Until the revision serves and the server has reacted to its events (the default
    monitors are in place)."""
    path = f"/api/v1/deployments/{revision['deployment']}/revisions/{revision['revision']}"
    for _ in range(600):
        status = api.get(path).json()["status"]
        if status not in ("pending", "running"):
            assert status == "applied"
            wait_delivered(api)
            return
        time.sleep(0.05)
    raise AssertionError("the deployment did not finish")


def deploy_churn(
    api: httpx.Client, steward: Steward, *, with_training_data: bool = True
) -> Deployed:
    frame, labels = training_frame(rows=1000, seed=3)
    model = LogisticRegression().fit(frame, labels)
    with Client(str(api.base_url), admin_token_of(steward)) as client:
        client.register(
            model,
            name="churn",
            sample=frame,
            training_data=frame if with_training_data else None,
            metrics={"accuracy": 0.99},
        )
    response = api.post("/api/v1/deployments", json={"model": "churn", "version": 1})
    assert response.status_code == 202, response.text
    wait_applied(api, response.json())
    monitors = {
        m["name"]: m["id"] for m in list_monitors(steward, DEPLOYMENT) for m in [m.model_dump()]
    }
    return Deployed(api, steward, monitors, since=outbox_head(steward))


@pytest.fixture
def deployed(api: httpx.Client, steward: Steward) -> Deployed:
    return deploy_churn(api, steward)


@pytest.fixture
def any_deployed(any_api: httpx.Client, any_steward: Steward) -> Deployed:
    return deploy_churn(any_api, any_steward)


def by_series(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["metric"], p["column"]): p for p in result["points"]}


def test_a_new_deployment_gets_the_default_monitors(deployed: Deployed) -> None:
    assert sorted(deployed.monitors) == [
        "data-drift",
        "data-quality",
        "estimated-performance",  # a classifier: its accuracy is estimated between labels
        "multivariate-drift",
        "operations",
        "outliers",
        "performance",
        "prediction-drift",
    ]
    shown = deployed.api.get(f"/api/v1/monitors/{deployed.monitors['performance']}").json()
    assert shown["every_minutes"] == 1440 and shown["spec"]["window"] == {
        "hours": 168,
        "last": None,
    }


def test_drifted_traffic_breaches_and_normal_traffic_recovers(any_deployed: Deployed) -> None:
    d = any_deployed
    d.patch("data-drift", window={"last": 500}, method_thresholds={"ks": 0.01})
    d.send(500)
    calm = d.run("data-drift")
    assert calm["status"] == "ok"
    assert calm["rows"] == 500 and calm["events"] == []
    assert calm["detail"]["baseline"] == "training data of v1"
    assert by_series(calm)[("drift_share", "")]["status"] == "ok"

    d.send(500, shift=30)
    drifted = d.run("data-drift")
    points = by_series(drifted)
    assert drifted["status"] == "breached"
    assert points[("drift_score", "income")]["status"] == "breached"
    assert points[("drift_share", "")]["value"] >= 0.5
    assert "metric.breached" in drifted["events"]

    d.send(500)
    back = d.run("data-drift")
    assert back["status"] == "ok" and "metric.recovered" in back["events"]
    income = [e for e in d.events if e.payload["column"] == "income"]
    assert [e.name for e in income] == ["metric.breached", "metric.recovered"]
    assert income[0].payload["deployment"] == DEPLOYMENT and income[0].payload["value"] > 0
    audited = d.api.get("/api/v1/audit", params={"object_type": "monitor"}).json()
    assert {"metric.breached", "metric.recovered"} <= {e["action"] for e in audited}


def test_a_breach_that_persists_publishes_once(deployed: Deployed) -> None:
    deployed.patch("data-drift", window={"last": 300})
    deployed.send(300, shift=40)
    first = deployed.run("data-drift")
    second = deployed.run("data-drift")
    assert first["status"] == second["status"] == "breached"
    assert "metric.breached" in first["events"] and second["events"] == []


def test_prediction_drift_compares_with_the_first_window_seen_without_training_data(
    api: httpx.Client, steward: Steward
) -> None:
    deployed = deploy_churn(api, steward, with_training_data=False)
    deployed.patch("prediction-drift", window={"last": 400})
    deployed.send(400)
    first = deployed.run("prediction-drift")
    assert first["status"] == "ok" and first["points"] == []
    assert "captured" in first["detail"]["baseline"]
    deployed.send(400, shift=40)  # incomes far above the boundary: nearly every prediction is 1
    later = deployed.run("prediction-drift")
    assert later["detail"]["baseline"] == "first window seen"
    assert by_series(later)[("drift_score", "prediction")]["status"] == "breached"


def test_prediction_drift_compares_with_the_training_predictions_profiled_at_registration(
    deployed: Deployed,
) -> None:
    version = deployed.api.get("/api/v1/models/churn/versions/1").json()
    stored = version["metadata"]["prediction_profile"]  # the SDK predicted the training rows
    assert set(stored["columns"]) == {"prediction", "probability"} and stored["rows"] == 1000
    # p < 0.001 to breach: this calm draw's incomes sit at KS 0.10 from the training
    # sample's (p = 0.005 even for scipy on the raw values), and probability follows income
    deployed.patch("prediction-drift", window={"last": 400}, method_thresholds={"ks": 0.001})
    deployed.send(400)
    calm = deployed.run("prediction-drift")
    assert calm["detail"]["baseline"] == "training predictions of v1"
    assert by_series(calm)[("drift_score", "prediction")]["status"] == "ok"
    assert by_series(calm)[("drift_score", "probability")]["status"] == "ok"
    deployed.send(400, shift=40)
    moved = by_series(deployed.run("prediction-drift"))
    assert moved[("drift_score", "prediction")]["status"] == "breached"
    assert moved[("drift_score", "probability")]["status"] == "breached"


def test_data_quality_flags_values_outside_the_training_range(deployed: Deployed) -> None:
    deployed.patch("data-quality", window={"last": 200})
    deployed.send(200)
    assert deployed.run("data-quality")["status"] == "ok"
    deployed.send(200, shift=500)
    result = by_series(deployed.run("data-quality"))
    assert result[("out_of_range_rate", "income")]["status"] == "breached"
    assert result[("out_of_range_rate", "income")]["value"] == 1.0
    assert result[("missing_rate", "age")]["status"] == "ok"


def test_an_empty_window_is_not_enough_data(deployed: Deployed) -> None:
    for name in deployed.monitors:
        result = deployed.run(name)
        assert result["status"] == "not enough data", name
        assert result["rows"] == 0 and result["points"] == [] and result["error"] == ""


def test_a_window_of_one_row_is_not_enough_data(deployed: Deployed) -> None:
    deployed.send(1)
    result = deployed.run("data-drift")
    assert result["status"] == "not enough data" and result["rows"] == 1
    assert "at least 10" in result["detail"]["note"]


def log_records(steward: Steward, records: list[dict[str, Any]], at: datetime) -> None:
    """Write prediction records straight into the deployment's log (as a server would)."""
    with PredictionLog(steward.settings.logs_url) as log:
        for i, inputs in enumerate(records):
            log.record(
                PredictionRecord(
                    request_id=uuid.uuid4().hex,
                    at=at + timedelta(milliseconds=i),
                    deployment=DEPLOYMENT,
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[inputs],
                    outputs=[0],
                    latency_ms=1.0,
                    status=200,
                )
            )


def test_an_all_missing_column_gets_its_own_status(deployed: Deployed) -> None:
    now = datetime.now(UTC)
    log_records(deployed.steward, [{"age": 30, "income": None}] * 50, now - timedelta(minutes=5))
    quality = run_monitor(deployed.steward, deployed.monitors["data-quality"], now=now)
    drift = run_monitor(deployed.steward, deployed.monitors["data-drift"], now=now)
    quality_points = {(p.metric, p.column): p for p in quality.points}
    drift_points = {(p.metric, p.column): p for p in drift.points}
    assert quality_points[("missing_rate", "income")].status == "all missing"
    assert quality_points[("missing_rate", "income")].value == 1.0
    assert drift_points[("drift_score", "income")].status == "all missing"
    assert drift_points[("drift_score", "income")].value is None


def test_a_failing_run_is_stored_with_its_error(deployed: Deployed) -> None:
    with deployed.steward.db.write() as session:
        session.execute(
            update(Monitor)
            .where(Monitor.id == deployed.monitors["data-drift"])
            .values(spec={"type": "data_drift", "window": {"hours": -1}})
        )
    result = run_monitor(deployed.steward, deployed.monitors["data-drift"])
    assert result.status == "failed" and "window" in result.error
    runs = deployed.api.get(f"/api/v1/monitors/{deployed.monitors['data-drift']}/runs").json()
    assert runs[0]["status"] == "failed"


def test_segments_give_points_per_value_of_a_column(deployed: Deployed) -> None:
    deployed.patch("data-drift", window={"last": 300}, segment_by="age")
    deployed.send(300)
    first = deployed.run("data-drift")  # captures each segment's own reference
    assert {p["segment"] for p in first["points"]} == {""}
    segments = {p["segment"] for p in deployed.run("data-drift")["points"]}
    assert "" in segments and len(segments) == 21  # the whole window and the 20 largest


# -- claiming due monitors -----------------------------------------------------------------

CLAIM = """
import sys
from datetime import datetime
from tests.helpers import settings_for
from modelsteward.context import Steward
from modelsteward.profiles.dataset import profile_dataset
from modelsteward.monitoring.runner import run_due_monitors
from pathlib import Path
steward = Steward(settings_for(Path(sys.argv[1]), sys.argv[2] or None))
print(run_due_monitors(steward, datetime.fromisoformat(sys.argv[3])))
"""


def bare_deployment(steward: Steward) -> None:
    with steward.db.write() as session:
        model = Model(name="churn", created_by="test")
        env = Environment(name="production", created_by="test")
        session.add_all([model, env])
        session.flush()
        session.add(
            Deployment(name=DEPLOYMENT, environment_id=env.id, model_id=model.id, created_by="t")
        )


def test_four_processes_run_each_due_monitor_once(any_steward: Steward) -> None:
    bare_deployment(any_steward)
    for i in range(6):
        create_monitor(any_steward, "test", DEPLOYMENT, f"ops-{i}", {"type": "operations"})
    now = datetime.now(UTC)
    with any_steward.db.write() as session:
        session.execute(update(Monitor).values(next_run_at=now - timedelta(minutes=1)))
    home = str(any_steward.settings.home)
    db_url = "" if any_steward.settings.is_sqlite else any_steward.settings.db_url
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM, home, db_url, now.isoformat()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    assert sum(int(out.strip()) for out, _ in outputs) == 6
    with any_steward.db.read() as session:
        per_monitor = session.execute(
            select(MonitorRun.monitor_id, func.count()).group_by(MonitorRun.monitor_id)
        ).all()
        next_runs = session.scalars(select(Monitor.next_run_at)).all()
    assert sorted(count for _, count in per_monitor) == [1] * 6
    assert all(n.replace(tzinfo=UTC) > now for n in next_runs)
    assert run_due_monitors(any_steward, now) == 0  # the slot is taken: nothing runs twice


def test_the_next_slot_skips_missed_ones() -> None:
    due = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert next_slot(due, 900, due) == due + timedelta(minutes=15)
    assert next_slot(due, 900, due + timedelta(minutes=47)) == due + timedelta(minutes=60)


def test_disabled_monitors_are_not_due(steward: Steward) -> None:
    bare_deployment(steward)
    created = create_monitor(steward, "test", DEPLOYMENT, "ops", {"type": "operations"})
    with steward.db.write() as session:
        session.execute(
            update(Monitor).values(
                next_run_at=datetime.now(UTC) - timedelta(hours=1), enabled=False
            )
        )
    assert run_due_monitors(steward) == 0
    with steward.db.read() as session:
        assert session.scalar(select(func.count()).select_from(MetricPoint)) == 0
    assert created.enabled


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    yield
