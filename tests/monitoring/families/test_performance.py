"""Performance metrics agree with scikit-learn, carry a band, and run on labelled traffic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from tests.monitoring.test_runner import Deployed, deployed  # noqa: F401 (fixture)

from modelsteward.monitoring.bands import wilson
from modelsteward.monitoring.families.performance.metrics import (
    calibration_error,
    classification,
    regression,
)
from modelsteward.monitoring.runner import run_monitor
from modelsteward.registry.loading import load_model
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

RNG = np.random.default_rng(42)
N = 2_000
TRUE = RNG.integers(0, 2, N)
SCORES = np.clip(TRUE * 0.35 + RNG.uniform(0, 0.65, N), 0.001, 0.999)
PREDICTED = (SCORES > 0.5).astype(int)


def test_binary_classification_agrees_with_sklearn() -> None:
    got = classification(TRUE.astype(float), PREDICTED.astype(float), SCORES)
    assert got["accuracy"].value == pytest.approx(sk.accuracy_score(TRUE, PREDICTED), abs=1e-9)
    assert got["precision"].value == pytest.approx(sk.precision_score(TRUE, PREDICTED), abs=1e-9)
    assert got["recall"].value == pytest.approx(sk.recall_score(TRUE, PREDICTED), abs=1e-9)
    assert got["f1"].value == pytest.approx(sk.f1_score(TRUE, PREDICTED), abs=1e-9)
    assert got["roc_auc"].value == pytest.approx(sk.roc_auc_score(TRUE, SCORES), abs=1e-9)
    assert got["log_loss"].value == pytest.approx(sk.log_loss(TRUE, SCORES), abs=1e-9)


def test_text_classes_use_the_named_positive_label() -> None:
    true = np.where(TRUE == 1, "churned", "stayed").astype(object)
    predicted = np.where(PREDICTED == 1, "churned", "stayed").astype(object)
    got = classification(true, predicted, positive="churned")
    expected = sk.precision_score(true, predicted, pos_label="churned")
    assert got["precision"].value == pytest.approx(expected, abs=1e-9)


def test_multiclass_precision_recall_and_f1_are_macro_averages() -> None:
    true = RNG.integers(0, 4, N)
    predicted = np.where(RNG.uniform(size=N) < 0.7, true, RNG.integers(0, 4, N))
    got = classification(true, predicted, replicates=50)
    for name, function in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        assert got[name].value == pytest.approx(
            function(true, predicted, average="macro"), abs=1e-9
        )
    assert got["accuracy"].value == pytest.approx(sk.accuracy_score(true, predicted), abs=1e-9)


def test_regression_agrees_with_sklearn() -> None:
    true = RNG.normal(100, 20, N)
    predicted = true + RNG.normal(0, 5, N)
    got = regression(true, predicted)
    assert got["mae"].value == pytest.approx(sk.mean_absolute_error(true, predicted), abs=1e-9)
    rmse = np.sqrt(sk.mean_squared_error(true, predicted))
    assert got["rmse"].value == pytest.approx(rmse, abs=1e-9)
    mape = sk.mean_absolute_percentage_error(true, predicted)
    assert got["mape"].value == pytest.approx(mape, abs=1e-9)
    assert got["r2"].value == pytest.approx(sk.r2_score(true, predicted), abs=1e-9)


def test_every_band_contains_its_value_and_narrows_with_more_rows() -> None:
    small = classification(TRUE[:50].astype(float), PREDICTED[:50].astype(float), SCORES[:50])
    large = classification(TRUE.astype(float), PREDICTED.astype(float), SCORES)
    for name, estimate in large.items():
        assert estimate.low is not None and estimate.high is not None, name
        assert estimate.low <= estimate.value <= estimate.high, name  # type: ignore[operator]
        narrow = estimate.high - estimate.low
        wide = small[name].high - small[name].low  # type: ignore[operator]
        assert narrow < wide, name


def test_the_wilson_band_matches_its_formula() -> None:
    low, high = wilson(80, 100)
    assert low == pytest.approx(0.71117, abs=1e-5) and high == pytest.approx(0.86664, abs=1e-5)


def test_calibration_error_is_zero_for_calibrated_bins() -> None:
    scores = np.array([0.25] * 4 + [0.75] * 4)
    outcome = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    assert calibration_error(outcome, scores, bins=10) == pytest.approx(0.0)
    assert calibration_error(~outcome, scores, bins=10) == pytest.approx(0.5)


def test_undefined_metrics_say_why_instead_of_a_silent_zero() -> None:
    ones = np.ones(20)
    got = classification(ones, ones, np.full(20, 0.9))
    assert got["roc_auc"].value is None and "one class" in got["roc_auc"].note
    assert regression(ones, ones)["r2"].value is None
    assert classification(np.array([]), np.array([]))["accuracy"].value is None


def test_performance_from_labelled_traffic(deployed: Deployed) -> None:  # noqa: F811
    sent = deployed.send_each(60)
    truth = [int(row["income"] > 52) for _, row, _ in sent]
    labels = [{"request_id": rid, "label": t} for (rid, _, _), t in zip(sent, truth, strict=True)]
    assert (
        deployed.api.post(f"/api/v1/deployments/{deployed_name()}/labels", json=labels).status_code
        == 201
    )
    deployed.patch("performance", window={"hours": 1})
    result = deployed.run("performance")
    points = {p["metric"]: p for p in result["points"]}
    predicted = [p for _, _, p in sent]
    assert points["labelled_rows"]["value"] == 60
    assert points["accuracy"]["value"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert points["f1"]["value"] == pytest.approx(sk.f1_score(truth, predicted))
    # registered with accuracy 0.99: the default lower bound is 0.99 less 10%
    assert points["accuracy"]["threshold"] == pytest.approx(0.891)
    expected = "ok" if points["accuracy"]["value"] >= 0.891 else "breached"
    assert points["accuracy"]["status"] == expected
    # the served classifier logs its probability beside the class: the scored metrics too
    model = load_model(deployed.steward, "churn", 1)
    scores = model.predict_proba(pd.DataFrame([row for _, row, _ in sent]))[:, 1]
    assert points["roc_auc"]["value"] == pytest.approx(sk.roc_auc_score(truth, scores))
    assert points["log_loss"]["value"] == pytest.approx(sk.log_loss(truth, scores))


def test_performance_without_labels_is_not_enough_data(deployed: Deployed) -> None:  # noqa: F811
    deployed.send_each(15)
    result = deployed.run("performance")
    assert result["status"] == "not enough data"
    labelled = [p for p in result["points"] if p["metric"] == "labelled_rows"]
    assert labelled[0]["value"] == 0


def test_scores_in_the_outputs_give_auc_log_loss_and_calibration(
    deployed: Deployed,  # noqa: F811
) -> None:
    n = 200
    at = datetime.now(UTC) - timedelta(minutes=10)
    with PredictionLog(deployed.steward.settings.logs_url) as log:
        for i in range(n):
            log.record(
                PredictionRecord(
                    request_id=f"r{i}",
                    at=at + timedelta(milliseconds=i),
                    deployment=deployed_name(),
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[{"age": 40, "income": 50.0}],
                    outputs=[{"prediction": int(PREDICTED[i]), "probability": float(SCORES[i])}],
                    latency_ms=1.0,
                    status=200,
                )
            )
    labels = [{"request_id": f"r{i}", "label": int(TRUE[i])} for i in range(n)]
    deployed.api.post(f"/api/v1/deployments/{deployed_name()}/labels", json=labels)
    result = run_monitor(deployed.steward, deployed.monitors["performance"])
    points = {p.metric: p for p in result.points}
    assert points["roc_auc"].value == pytest.approx(
        sk.roc_auc_score(TRUE[:n], SCORES[:n]), abs=1e-9
    )
    assert points["log_loss"].value == pytest.approx(sk.log_loss(TRUE[:n], SCORES[:n]), abs=1e-9)
    assert points["calibration_error"].value is not None
    assert points["roc_auc"].low < points["roc_auc"].value < points["roc_auc"].high  # type: ignore[operator]


def deployed_name() -> str:
    return "churn-production"
