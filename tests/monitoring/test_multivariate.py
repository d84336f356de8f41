"""Multivariate drift: a domain classifier and PCA reconstruction error see changes in how
columns move together, which per-column tests cannot; bad input gets a clear status.

The end-to-end tests register a real scikit-learn model with its training data through
the SDK (so the version carries the fitted baseline), deploy it on a live server, write
predictions into the prediction log and create and run the monitor through the API.
"""

from __future__ import annotations

import io
import json
import re
import sys
import uuid
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from tests.helpers import admin_token_of, outbox_head, recorded
from tests.monitoring.test_runner import wait_applied

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.events.domain import DomainEvent
from modelsteward.monitoring.drift import DriftConfig, compare
from modelsteward.monitoring.families.multivariate_drift import MultivariateDriftSpec, judge
from modelsteward.monitoring.families.registry import parse_spec
from modelsteward.monitoring.multivariate import MultivariateBaseline, fit_baseline
from modelsteward.monitoring.multivariate.baseline import size_of
from modelsteward.monitoring.multivariate.domain_classifier import NOT_INSTALLED
from modelsteward.registry.specs import MAX_DOC_BYTES, TrainingDataRef
from modelsteward.sdk.client import Client, _training_data_ref
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

MODEL = "sensor"
DEPLOYMENT = "sensor-production"
SPEC = MultivariateDriftSpec()


def sensors(n: int, rho: float, seed: int) -> pd.DataFrame:
    """Pressure and temperature with correlation ``rho`` (same marginals for any rho), and
    an independent whole-number load."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], n)
    return pd.DataFrame(
        {
            "pressure": 100 + 5 * z[:, 0],
            "temperature": 60 + 3 * z[:, 1],
            "load": rng.integers(0, 11, n),
        }
    )


def by_metric(points: list[Any]) -> dict[str, Any]:
    return {(p["metric"] if isinstance(p, dict) else p.metric): p for p in points}


# -- the statistics ------------------------------------------------------------------------


def test_a_correlation_flip_passes_per_column_ks_but_both_multivariate_metrics_flag_it() -> None:
    reference, flipped = sensors(2000, 0.8, seed=1), sensors(1000, -0.8, seed=2)
    per_column = compare(reference, flipped, DriftConfig(numeric_method="ks"))
    assert [c.method for c in per_column.columns] == ["ks"] * 3
    assert per_column.drifted_columns == [] and not per_column.dataset_drift

    points = by_metric(judge(SPEC, fit_baseline(reference), flipped))
    auc, error = points["domain_classifier_auc"], points["reconstruction_error"]
    assert auc.status == "breached" and auc.value > 0.75 and auc.low > 0.5
    assert error.status == "breached" and error.low > error.threshold
    assert error.value > 1.5 * error.detail["reference_mean"]


def test_windows_from_the_reference_distribution_rarely_raise_an_alarm() -> None:
    baseline = fit_baseline(sensors(2000, 0.8, seed=100))
    alarms = {"domain_classifier_auc": 0, "reconstruction_error": 0}
    for seed in range(8):  # 200 trials per size are in docs/monitoring-multivariate.md
        for point in judge(SPEC, baseline, sensors(400, 0.8, seed=seed)):
            assert point.status in ("ok", "breached") and point.low is not None
            alarms[point.metric] += point.status == "breached"
    assert alarms["domain_classifier_auc"] == 0
    assert alarms["reconstruction_error"] <= 1


def test_a_mean_shift_of_one_column_is_caught_as_well() -> None:
    baseline = fit_baseline(sensors(2000, 0.8, seed=3))
    shifted = sensors(800, 0.8, seed=4).assign(pressure=lambda f: f.pressure + 10)
    points = by_metric(judge(SPEC, baseline, shifted))
    assert points["domain_classifier_auc"].status == "breached"


def test_the_baseline_is_plain_json_and_judges_the_same_after_a_round_trip() -> None:
    baseline = fit_baseline(sensors(3000, 0.8, seed=5))
    stored = json.loads(json.dumps(baseline.to_dict()))
    again = MultivariateBaseline.from_dict(stored)
    assert again.columns == ["pressure", "temperature", "load"]
    assert again.sample.shape == (500, 3) and again.geometry.kept == 1
    window = sensors(400, -0.8, seed=6)
    before, after = judge(SPEC, baseline, window), judge(SPEC, again, window)
    assert [p.value for p in before] == pytest.approx([p.value for p in after], rel=1e-3)


def test_a_tight_byte_budget_shrinks_the_sample_not_the_geometry() -> None:
    baseline = fit_baseline(sensors(3000, 0.8, seed=7))
    small = baseline.within(6_000)
    assert size_of(small) <= 6_000 and 50 <= small.sample.shape[0] < 500
    assert np.allclose(small.geometry.axes, baseline.geometry.axes)
    with pytest.raises(InvalidInput, match="bytes"):
        baseline.within(500)


def test_a_wide_table_keeps_its_first_fifty_numeric_columns() -> None:
    rng = np.random.default_rng(8)
    wide = pd.DataFrame(rng.normal(size=(400, 60)), columns=[f"f{i}" for i in range(60)])
    wide["city"] = rng.choice(["oslo", "lima"], 400)
    baseline = fit_baseline(wide)
    assert baseline.columns == [f"f{i}" for i in range(50)]
    assert baseline.left_out["f55"] == "beyond the first 50 numeric columns"
    assert "city" not in baseline.left_out and "city" not in baseline.columns


def test_a_wide_training_table_still_fits_the_registry_document_limit() -> None:
    rng = np.random.default_rng(20)
    wide = pd.DataFrame(rng.normal(size=(2000, 60)), columns=[f"f{i}" for i in range(60)])
    for j in range(15):
        wide[f"c{j}"] = rng.choice([f"value-{k}" for k in range(300)], 2000)
    document = _training_data_ref(wide, None)
    TrainingDataRef.model_validate(document)  # what the registry checks on register
    profile = document["profile"]
    assert len(json.dumps(profile)) <= MAX_DOC_BYTES
    stored = MultivariateBaseline.from_dict(profile["multivariate"])
    assert len(stored.columns) == 50 and 50 <= stored.sample.shape[0] < 500


# -- bad input -----------------------------------------------------------------------------


def test_fitting_refuses_data_it_cannot_learn_from() -> None:
    empty = sensors(0, 0.5, seed=9)
    for data, message in (
        (empty, "at least 20"),
        (sensors(1, 0.5, seed=9), "at least 20"),
        (pd.DataFrame({"a": [1.0] * 50, "b": [np.nan] * 50}), "no numeric column"),
        (pd.DataFrame({"city": ["oslo"] * 50}), "no numeric column"),
    ):
        with pytest.raises(InvalidInput, match=message):
            fit_baseline(data)


def test_constant_and_all_missing_columns_are_left_out_with_their_reason() -> None:
    frame = sensors(500, 0.8, seed=10).assign(site=7.0, broken=np.nan)
    baseline = fit_baseline(frame)
    assert baseline.left_out == {"site": "constant", "broken": "all missing"}
    assert baseline.columns == ["pressure", "temperature", "load"]


def test_missing_and_infinite_cells_are_filled_counted_and_never_crash() -> None:
    baseline = fit_baseline(sensors(1000, 0.8, seed=11))
    window = sensors(300, 0.8, seed=12).astype(float)
    window.loc[:9, "pressure"] = np.nan
    window.loc[10:12, "temperature"] = np.inf
    window.loc[13, "load"] = -np.inf
    for point in judge(SPEC, baseline, window):
        assert point.value is not None and np.isfinite(point.value)
        assert point.detail["gaps"] == (
            "10 missing and 4 infinite cells were read as the reference median"
        )


def test_a_stuck_column_in_the_window_is_judged_as_a_change() -> None:
    baseline = fit_baseline(sensors(1000, 0.8, seed=24))
    stuck = sensors(400, 0.8, seed=25).assign(load=5)
    points = by_metric(judge(SPEC, baseline, stuck))
    assert points["domain_classifier_auc"].status == "breached"
    error = points["reconstruction_error"]
    assert error.status == "breached" and error.value < error.detail["band"][0]


def test_too_few_rows_for_the_classifier_is_not_enough_data_with_the_reason() -> None:
    baseline = fit_baseline(sensors(1000, 0.8, seed=13))
    points = by_metric(judge(SPEC, baseline, sensors(10, 0.8, seed=14)))
    auc = points["domain_classifier_auc"]
    assert auc.status == "not enough data" and auc.value is None
    assert "at least 25 of each needed" in auc.detail["note"]
    assert points["reconstruction_error"].status in ("ok", "breached")
    one = by_metric(judge(SPEC, baseline, sensors(1, 0.8, seed=15)))["reconstruction_error"]
    assert one.value is not None and one.low is None and one.high is None


def test_a_single_numeric_column_has_nothing_to_reconstruct_from() -> None:
    baseline = fit_baseline(sensors(500, 0.8, seed=16)[["pressure"]])
    error = by_metric(judge(SPEC, baseline, sensors(100, 0.8, seed=17)))["reconstruction_error"]
    assert error.status == "not enough data"
    assert error.detail["note"] == "needs at least 2 numeric columns to reconstruct from"


def test_without_scikit_learn_the_classifier_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    baseline = fit_baseline(sensors(500, 0.8, seed=18))
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # makes the import fail
    auc = by_metric(judge(SPEC, baseline, sensors(100, 0.8, seed=19)))["domain_classifier_auc"]
    assert auc.status == "not enough data" and auc.detail["note"] == NOT_INSTALLED


# -- the docs stay true --------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "monitoring-multivariate.md"


def test_every_spec_in_the_docs_is_a_valid_monitor_spec() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    kinds = {parse_spec(json.loads(block)).type for block in blocks}
    assert len(blocks) == 2 and kinds == {"multivariate_drift", "outliers"}


def test_the_correlation_flip_example_in_the_docs_prints_what_the_docs_say() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    printed = re.search(r"prints\n\n```\n(.*?)```", DOC.read_text(), flags=re.S)
    assert printed is not None
    output = io.StringIO()
    with redirect_stdout(output):
        exec(compile(example, str(DOC), "exec"), {"__name__": "example"})
    assert output.getvalue() == printed.group(1)


# -- end to end: SDK, live server, prediction log, monitor API -----------------------------


@dataclass
class Served:
    """A registered and deployed sensor model, and a clock for the predictions written."""

    api: httpx.Client
    steward: Steward
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=1))
    since: int = 0

    @property
    def events(self) -> list[DomainEvent]:
        return recorded(self.steward, "metric.breached", after=self.since)

    def log(self, frame: pd.DataFrame, ids: list[str] | None = None) -> list[str]:
        """Write one logged request per row, as the server would."""
        ids = ids or [uuid.uuid4().hex for _ in range(len(frame))]
        with PredictionLog(self.steward.settings.logs_url) as log:
            for request_id, row in zip(ids, frame.to_dict("records"), strict=True):
                self.clock += timedelta(milliseconds=5)
                log.record(
                    PredictionRecord(
                        request_id=request_id,
                        at=self.clock,
                        deployment=DEPLOYMENT,
                        model=MODEL,
                        version=1,
                        route="champion",
                        inputs=[row],
                        outputs=[0],
                        latency_ms=1.0,
                        status=200,
                    )
                )
        return ids

    def monitor(self, name: str, spec: dict[str, Any]) -> int:
        response = self.api.post(
            f"/api/v1/deployments/{DEPLOYMENT}/monitors", json={"name": name, "spec": spec}
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def named(self, name: str) -> int:
        """The id of one of the deployment's monitors (the defaults come with it)."""
        listed = self.api.get(f"/api/v1/deployments/{DEPLOYMENT}/monitors").json()
        return int(next(m["id"] for m in listed if m["name"] == name))

    def run(self, monitor_id: int) -> dict[str, Any]:
        response = self.api.post(f"/api/v1/monitors/{monitor_id}/run")
        assert response.status_code == 200, response.text
        return response.json()


def serve(api: httpx.Client, steward: Steward, training: pd.DataFrame | None) -> Served:
    """Register a model on sensor data (with ``training`` as its training data) and deploy it."""
    frame = sensors(2000, 0.8, seed=21)
    labels = (frame.pressure + frame.temperature > 160).astype(int).to_numpy()
    model = LogisticRegression(max_iter=500).fit(frame, labels)
    with Client(str(api.base_url), admin_token_of(steward)) as client:
        client.register(
            model, name=MODEL, sample=frame, training_data=training, metrics={"accuracy": 0.9}
        )
    response = api.post("/api/v1/deployments", json={"model": MODEL, "version": 1})
    assert response.status_code == 202, response.text
    wait_applied(api, response.json())
    return Served(api, steward, since=outbox_head(steward))


def test_a_registered_model_is_watched_for_multivariate_drift_end_to_end(
    any_api: httpx.Client, any_steward: Steward
) -> None:
    served = serve(any_api, any_steward, training=sensors(2000, 0.8, seed=21))
    version = any_api.get(f"/api/v1/models/{MODEL}/versions/1").json()
    assert len(json.dumps(version["training_data"]["profile"])) < MAX_DOC_BYTES
    assert version["training_data"]["profile"]["multivariate"]["columns"] == [
        "pressure",
        "temperature",
        "load",
    ]
    monitor = served.monitor("joint-drift", {"type": "multivariate_drift", "window": {"last": 600}})

    served.log(sensors(600, 0.8, seed=22))
    calm = served.run(monitor)
    assert calm["status"] == "ok" and calm["events"] == []
    assert calm["detail"]["baseline"] == "training data of v1"
    for point in calm["points"]:
        assert point["status"] == "ok" and point["low"] < point["value"] < point["high"]

    served.log(sensors(600, -0.8, seed=23))
    data_drift = served.named("data-drift")
    patched = any_api.patch(
        f"/api/v1/monitors/{data_drift}", json={"spec": {"window": {"last": 600}}}
    )
    assert patched.status_code == 200, patched.text
    per_column = served.run(data_drift)
    assert per_column["status"] == "ok"  # each column alone still looks like training
    flipped = served.run(monitor)
    assert flipped["status"] == "breached" and "metric.breached" in flipped["events"]
    points = by_metric(flipped["points"])
    assert points["domain_classifier_auc"]["low"] > 0.5
    assert points["reconstruction_error"]["value"] > points["reconstruction_error"]["threshold"]
    assert {e.payload["metric"] for e in served.events} == {
        "domain_classifier_auc",
        "reconstruction_error",
    }
    stored = any_api.get(
        f"/api/v1/deployments/{DEPLOYMENT}/metrics", params={"monitor": "joint-drift"}
    ).json()
    assert len(stored) == 4 and all(p["low"] is not None for p in stored)
