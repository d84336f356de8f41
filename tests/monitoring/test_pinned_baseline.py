"""An operator pins a monitor's baseline to a window of the log, accepting a new normal;
clearing it goes back to the version's training data. Both are audited."""

from __future__ import annotations

import httpx
import pytest
from tests.helpers import token_for
from tests.monitoring.test_runner import Deployed, by_series, deployed  # noqa: F401 (fixture)

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

SHIFT = 40  # incomes far above the training data's


def pin(deployed: Deployed, monitor: str, **body: object) -> httpx.Response:  # noqa: F811
    return deployed.api.put(f"/api/v1/monitors/{deployed.monitors[monitor]}/baseline", json=body)


def test_a_pinned_window_becomes_the_reference_until_cleared(deployed: Deployed) -> None:  # noqa: F811
    deployed.patch("data-drift", window={"last": 300})
    deployed.send(300, shift=SHIFT)
    assert deployed.run("data-drift")["status"] == "breached"  # against the training data

    pinned = pin(deployed, "data-drift", window={"last": 300})
    assert pinned.status_code == 200, pinned.text
    kept = pinned.json()["baseline"]
    assert kept["pinned"] is True and kept["rows"] == 300 and kept["version"] == 1
    assert kept["source"].startswith("pinned by admin: the last 300 predictions")
    assert "profile" not in kept  # the view says where it came from, not its numbers

    deployed.send(300, shift=SHIFT)  # more of the new normal: no drift from it
    calm = deployed.run("data-drift")
    assert calm["status"] == "ok" and calm["detail"]["baseline"] == kept["source"]
    deployed.send(300)  # the old population is now the change
    assert by_series(deployed.run("data-drift"))[("drift_score", "income")]["status"] == "breached"

    cleared = deployed.api.delete(f"/api/v1/monitors/{deployed.monitors['data-drift']}/baseline")
    assert cleared.status_code == 200 and cleared.json()["baseline"] is None
    back = deployed.run("data-drift")
    assert back["detail"]["baseline"] == "training data of v1" and back["status"] == "ok"

    actions = [e["action"] for e in deployed.api.get("/api/v1/audit?limit=500").json()]
    assert "monitor.baseline_pinned" in actions and "monitor.baseline_cleared" in actions


def test_multivariate_drift_can_be_pinned_too(deployed: Deployed) -> None:  # noqa: F811
    deployed.patch("multivariate-drift", window={"last": 400})
    deployed.send(400, shift=SHIFT)
    assert pin(deployed, "multivariate-drift", window={"last": 400}).status_code == 200
    deployed.send(400, shift=SHIFT)
    result = deployed.run("multivariate-drift")
    assert result["detail"]["baseline"].startswith("pinned by admin")
    auc = by_series(result)[("domain_classifier_auc", "")]
    assert auc["status"] == "ok", auc


def test_bad_pins_are_refused_and_change_nothing(deployed: Deployed) -> None:  # noqa: F811
    deployed.send(5)
    monitor = deployed.monitors["data-drift"]
    before = deployed.api.get(f"/api/v1/monitors/{monitor}").json()["baseline"]
    cases = [
        ("performance", {"window": {"hours": 1}}, 422, "keep no baseline"),
        ("data-drift", {"window": {"hours": 1}}, 422, "at least 10"),
        ("data-drift", {"window": {"hours": 1, "last": 5}}, 422, "either"),
        ("data-drift", {"window": {"hours": 1}, "end": "2024-01-01T00:00:00"}, 422, "time zone"),
        ("data-drift", {"window": {"hours": 1}, "extra": 1}, 422, ""),
    ]
    for name, body, status, words in cases:
        response = pin(deployed, name, **body)
        assert response.status_code == status, (name, body, response.text)
        assert words in response.text
    assert (
        deployed.api.put(
            "/api/v1/monitors/9999/baseline", json={"window": {"hours": 1}}
        ).status_code
        == 404
    )
    viewer = httpx.Client(
        base_url=str(deployed.api.base_url),
        headers={"Authorization": f"Bearer {token_for(deployed.steward, 'viewer')}"},
    )
    assert (
        viewer.put(
            f"/api/v1/monitors/{monitor}/baseline", json={"window": {"hours": 1}}
        ).status_code
        == 403
    )
    assert deployed.api.get(f"/api/v1/monitors/{monitor}").json()["baseline"] == before
