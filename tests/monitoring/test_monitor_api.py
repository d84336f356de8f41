"""The monitoring API: monitors of a deployment, changes, runs, points over time, /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.helpers import token_for
from tests.monitoring.test_runner import (  # noqa: F401 (fixtures)
    DEPLOYMENT,
    Deployed,
    any_deployed,
    deployed,
)

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")


def as_role(d: Deployed, role: str) -> httpx.Client:
    token = token_for(d.steward, role)
    return httpx.Client(
        base_url=str(d.api.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_list_get_and_change_a_monitor(deployed: Deployed) -> None:  # noqa: F811
    api = deployed.api
    listed = api.get(f"/api/v1/deployments/{DEPLOYMENT}/monitors").json()
    assert [m["type"] for m in listed] == [
        "data_quality",
        "data_drift",
        "prediction_drift",
        "operations",
        "multivariate_drift",
        "outliers",
        "performance",
        "estimated_performance",  # the model answers with classes
    ]
    drift = deployed.monitors["data-drift"]
    changed = api.patch(
        f"/api/v1/monitors/{drift}",
        json={"spec": {"every_minutes": 60, "methods": {"income": "psi"}}, "enabled": False},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["every_minutes"] == 60 and body["spec"]["methods"] == {"income": "psi"}
    assert body["enabled"] is False
    assert api.get(f"/api/v1/monitors/{drift}").json()["spec"]["window"]["hours"] == 1
    audited = api.get("/api/v1/audit", params={"object_type": "monitor"}).json()
    assert "monitor.updated" in [e["action"] for e in audited]


def test_a_bad_change_is_refused_and_changes_nothing(deployed: Deployed) -> None:  # noqa: F811
    api, drift = deployed.api, deployed.monitors["data-drift"]
    before = api.get(f"/api/v1/monitors/{drift}").json()
    for body, message in (
        ({"spec": {"methods": {"income": "magic"}}}, "unknown drift method"),
        ({"spec": {"window": {"hours": 1, "last": 5}}}, "either"),
        ({"spec": {"type": "operations"}}, "cannot change"),
        ({"spec": {"thresholds": {"drift_score": {"max": 0.2}}}}, "drift_thresholds"),
        ({}, "nothing to change"),
    ):
        response = api.patch(f"/api/v1/monitors/{drift}", json=body)
        assert response.status_code == 422, body
        assert message in response.json()["error"]["message"], response.text
    assert api.get(f"/api/v1/monitors/{drift}").json() == before
    ops = deployed.monitors["operations"]
    typo = api.patch(
        f"/api/v1/monitors/{ops}", json={"spec": {"thresholds": {"eror_rate": {"max": 1}}}}
    )
    assert typo.status_code == 422 and "no metric 'eror_rate'" in typo.json()["error"]["message"]


def test_unknown_monitors_and_deployments_are_404(deployed: Deployed) -> None:  # noqa: F811
    api = deployed.api
    assert api.get("/api/v1/monitors/999").status_code == 404
    assert api.post("/api/v1/monitors/999/run").status_code == 404
    assert api.get("/api/v1/monitors/999/runs").status_code == 404
    assert api.get("/api/v1/deployments/ghost/monitors").status_code == 404
    assert api.get("/api/v1/deployments/ghost/metrics").status_code == 404


def test_readers_read_and_only_monitoring_writers_change(deployed: Deployed) -> None:  # noqa: F811
    drift = deployed.monitors["data-drift"]
    with as_role(deployed, "data-scientist") as reader:
        assert reader.get(f"/api/v1/monitors/{drift}").status_code == 200
        assert reader.get(f"/api/v1/deployments/{DEPLOYMENT}/metrics").status_code == 200
        assert reader.patch(f"/api/v1/monitors/{drift}", json={"enabled": False}).status_code == 403
        assert reader.post(f"/api/v1/monitors/{drift}/run").status_code == 403
    with as_role(deployed, "operator") as operator:
        assert operator.post(f"/api/v1/monitors/{drift}/run").status_code == 200


def test_create_a_monitor_with_a_segment(deployed: Deployed) -> None:  # noqa: F811
    api = deployed.api
    spec = {
        "type": "operations",
        "window": {"last": 100},
        "thresholds": {"latency_p50_ms": {"max": 0.0}},
    }
    created = api.post(
        f"/api/v1/deployments/{DEPLOYMENT}/monitors", json={"name": "strict-latency", "spec": spec}
    )
    assert created.status_code == 201, created.text
    again = api.post(
        f"/api/v1/deployments/{DEPLOYMENT}/monitors", json={"name": "strict-latency", "spec": spec}
    )
    assert again.status_code == 409
    deployed.send(2)
    run = api.post(f"/api/v1/monitors/{created.json()['id']}/run").json()
    assert run["status"] == "breached" and run["events"] == ["metric.breached"]


def test_points_over_time_filtered_by_metric_column_and_time(
    any_deployed: Deployed,  # noqa: F811
) -> None:
    d = any_deployed
    d.patch("data-drift", window={"last": 200})
    d.send(200)
    first = d.run("data-drift")
    d.send(200)
    second = d.run("data-drift")
    path = f"/api/v1/deployments/{DEPLOYMENT}/metrics"
    income = d.api.get(path, params={"metric": "drift_score", "column": "income"}).json()
    assert [p["run_id"] for p in income] == [first["id"], second["id"]]
    assert all(p["monitor"] == "data-drift" and p["version"] == 1 for p in income)
    later = d.api.get(path, params={"metric": "drift_share", "since": second["window_end"]}).json()
    assert [p["run_id"] for p in later] == [second["id"]]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert d.api.get(path, params={"since": future}).json() == []
    naive = d.api.get(path, params={"since": "2024-05-01T00:00:00"})
    assert naive.status_code == 422
    runs = d.api.get(f"/api/v1/monitors/{d.monitors['data-drift']}/runs").json()
    assert [r["id"] for r in runs] == [second["id"], first["id"]]
    assert runs[0]["trigger"] == "manual" and runs[0]["window_last"] == 200


def test_latest_points_are_exported_to_prometheus(deployed: Deployed) -> None:  # noqa: F811
    deployed.patch("data-drift", window={"last": 100})
    deployed.send(100, shift=40)
    deployed.run("data-drift")
    text = deployed.api.get("/metrics").text
    assert (
        'steward_monitor_metric{column="",deployment="churn-production",metric="drift_share",'
        'monitor="data-drift",segment=""} 0.5'
    ) in text
    assert (
        'steward_monitor_status{column="income",deployment="churn-production",'
        'metric="drift_score",monitor="data-drift",segment="",status="breached"} 1.0'
    ) in text
