"""Performance estimated without labels (CBPE): the maths, covariate shift, a monitor's runs.

The data are synthetic with a known truth: labels are drawn from P(y | x) =
sigmoid(2 x1 - x2 + 0.2), so a logistic regression fitted on them is calibrated, and
moving the inputs towards the decision boundary (covariate shift) lowers the realised
accuracy while P(y | x) stays the same. That is the case CBPE is for: its estimate
follows the realised accuracy from the scores alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
from tests.helpers import upload, version_form
from tests.monitoring.test_runner import DEPLOYMENT, bare_deployment, wait_applied

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families.estimated_performance.estimation import (
    Calibration,
    estimate,
    expected_share,
    fit_calibration,
)
from modelsteward.monitoring.families.estimated_performance.family import _positive
from modelsteward.monitoring.families.performance.metrics import positive_of
from modelsteward.monitoring.runner import run_monitor
from modelsteward.monitoring.service import create_monitor
from modelsteward.monitoring.views import RunResult
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

WEIGHTS, BIAS = np.array([2.0, -1.0]), 0.2


def draw(rng: np.random.Generator, n: int, scale: float, mean: tuple[float, float] = (0, 0)):
    """Inputs around ``mean`` with spread ``scale``, and labels from the fixed P(y | x)."""
    x = rng.normal(mean, scale, (n, 2))
    y = rng.random(n) < 1 / (1 + np.exp(-(x @ WEIGHTS + BIAS)))
    return x, y


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    x, y = draw(np.random.default_rng(11), 5000, 2.0)
    return LogisticRegression().fit(x, y)


# -- the maths -------------------------------------------------------------------------------


def test_isotonic_calibration_agrees_with_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    scores = np.round(rng.uniform(size=4000), 3)
    outcomes = rng.random(4000) < scores**2
    ours = fit_calibration(scores, outcomes)
    theirs = IsotonicRegression(out_of_bounds="clip").fit(scores, outcomes)
    anywhere = rng.uniform(-0.2, 1.2, 5000)
    assert np.abs(ours.apply(anywhere) - theirs.predict(anywhere)).max() < 1e-12


def test_a_calibration_survives_json_and_a_broken_one_is_refused() -> None:
    rng = np.random.default_rng(2)
    scores = rng.uniform(size=500)
    fitted = fit_calibration(scores, rng.random(500) < scores)
    again = Calibration.from_dict(fitted.to_dict())
    assert again == fitted and again.rows == 500
    for broken in (
        {"method": "platt"},
        {"method": "isotonic", "x": [0.1, 0.5], "y": [0.2]},
        {"method": "isotonic", "x": [0.5, 0.1], "y": [0.2, 0.4]},
        {"method": "isotonic", "x": [0.1, 0.5], "y": [0.8, 0.2]},
        {"method": "isotonic", "x": [0.1, 0.5], "y": [0.2, 1.5]},
        {"method": "isotonic", "x": ["a"], "y": [0.5]},
    ):
        with pytest.raises(InvalidInput):
            Calibration.from_dict(broken)
    with pytest.raises(InvalidInput, match="both outcomes"):
        fit_calibration(scores, np.ones(500, dtype=bool))


def test_calibrated_scores_put_every_realised_metric_within_the_estimates_band() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(2, 2, 20_000)
    y = rng.random(p.size) < p
    predicted = p >= 0.5
    estimated = estimate(p, predicted)
    realised = {
        "accuracy": float((predicted == y).mean()),
        "precision": precision_score(y, predicted),
        "recall": recall_score(y, predicted),
        "f1": f1_score(y, predicted),
        "roc_auc": roc_auc_score(y, p),
    }
    for metric, value in realised.items():
        band = estimated[metric]
        assert band.low <= value <= band.high, (metric, value, band)
        assert band.high - band.low < 0.03, metric  # type: ignore[operator]


def test_the_accuracy_band_covers_the_realised_accuracy_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(4)
    covered = 0
    for _ in range(400):
        p = rng.uniform(size=300)
        y = rng.random(300) < p
        band = expected_share(np.where(p >= 0.5, p, 1 - p))
        covered += band.low <= float(((p >= 0.5) == y).mean()) <= band.high  # type: ignore[operator]
    assert 0.92 <= covered / 400 <= 0.98


def test_undefined_estimates_say_why_instead_of_a_silent_zero() -> None:
    none_predicted = estimate(np.full(50, 0.2), np.zeros(50, dtype=bool))
    assert none_predicted["precision"].value is None
    assert none_predicted["precision"].note == "no positive predictions"
    assert none_predicted["accuracy"].value == pytest.approx(0.8)
    certain = estimate(np.zeros(20), np.zeros(20, dtype=bool))
    assert certain["recall"].note == "the scores expect no positives"
    assert certain["roc_auc"].note == "the scores expect only one class"
    assert estimate(np.array([]), np.array([], dtype=bool))["accuracy"].note == "no rows"
    with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
        estimate(np.array([0.2, 1.4]), np.array([False, True]))
    with pytest.raises(InvalidInput):
        estimate(np.array([0.2, np.nan]), np.array([False, True]))


# -- a monitor over logged predictions -------------------------------------------------------


def write(
    steward: Steward,
    at: datetime,
    outputs: list[Any],
    labels: list[Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
) -> None:
    """One single-row request per output (labels name requests), with its label if given."""
    ids = [uuid.uuid4().hex for _ in outputs]
    with PredictionLog(steward.settings.logs_url) as log:
        for i, (rid, output) in enumerate(zip(ids, outputs, strict=True)):
            log.record(
                PredictionRecord(
                    request_id=rid,
                    at=at + timedelta(milliseconds=i),
                    deployment=DEPLOYMENT,
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[inputs[i] if inputs else {"x": float(i)}],
                    outputs=[output],
                    latency_ms=1.0,
                    status=200,
                )
            )
    if labels is not None:
        items = [{"request_id": r, "label": v} for r, v in zip(ids, labels, strict=True)]
        LabelStore(steward.settings.logs_url).post(DEPLOYMENT, items)


def scored_rows(p: np.ndarray) -> list[dict[str, Any]]:
    return [{"prediction": int(v >= 0.5), "probability": float(v)} for v in p]


def points_of(result: RunResult) -> dict[str, Any]:
    return {p.metric: p for p in result.points if p.segment == ""}


def monitor(steward: Steward, **spec: Any) -> int:
    body = {"type": "estimated_performance", "window": {"hours": 1}, **spec}
    return create_monitor(steward, "test", DEPLOYMENT, f"cbpe-{uuid.uuid4().hex[:6]}", body).id


def test_the_estimate_tracks_realised_accuracy_under_covariate_shift(
    steward: Steward, model: LogisticRegression
) -> None:
    bare = steward
    bare_deployment(bare)
    measured = []  # (realised, estimated, |error|) per window, quoted in the docs
    rng = np.random.default_rng(5)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    watching = monitor(bare)
    shifts = [(2.0, (0.0, 0.0)), (1.2, (0.3, 0.5)), (0.8, (0.0, 0.0)), (0.5, (0.5, 1.0))]
    for hour, (scale, mean) in enumerate(shifts):
        x, y = draw(rng, 2000, scale, mean)
        p = model.predict_proba(x)[:, 1]
        write(
            bare, start + timedelta(hours=hour, minutes=5), scored_rows(p), y.astype(int).tolist()
        )
        result = run_monitor(bare, watching, now=start + timedelta(hours=hour + 1))
        points = points_of(result)
        error = points["estimation_error"]
        realised = float(((p >= 0.5) == y).mean())
        assert error.detail["realised"] == pytest.approx(realised, abs=1e-12)
        assert points["estimated_accuracy"].status == "ok"  # no version: no default threshold
        assert error.value < 0.03, (scale, error.detail)
        assert error.detail["labelled_rows"] == 2000 and error.detail["metric"] == "accuracy"
        estimated = points["estimated_accuracy"].value
        measured.append((realised, estimated, abs(estimated - realised)))
        checked = "this window" if hour == 0 else "an earlier window"
        assert checked in result.detail["calibration"]
        assert result.detail["calibration"].startswith("none needed")  # the model is calibrated
    assert measured[0][0] > 0.85 and measured[-1][0] < 0.75  # the shift really hurts the model
    print("realised, estimated, |error|:", [tuple(round(v, 4) for v in m) for m in measured])


def test_a_monitor_fits_a_calibration_on_its_first_labelled_window_and_keeps_it(
    steward: Steward,
) -> None:
    bare_deployment(steward)
    rng = np.random.default_rng(6)
    now = datetime.now(UTC)
    fitted, trusting = monitor(steward), monitor(steward, calibration_rows=1_000_000)
    p = rng.uniform(0.05, 0.95, 3000)
    y = rng.random(p.size) < p
    distorted = np.sqrt(p)  # overconfident scores: the model is right less often than they say
    write(steward, now - timedelta(hours=2), scored_rows(distorted), y.astype(int).tolist())
    first = run_monitor(steward, fitted, now=now - timedelta(hours=1))
    assert first.detail["calibration"] == "fitted on 3000 labelled rows of this window"
    p2 = rng.uniform(0.05, 0.95, 3000)
    y2 = rng.random(p2.size) < p2
    write(steward, now - timedelta(minutes=30), scored_rows(np.sqrt(p2)))  # no labels
    realised = float(((np.sqrt(p2) >= 0.5) == y2).mean())
    later = run_monitor(steward, fitted, now=now)
    assert later.detail["calibration"] == "fitted on 3000 labelled rows of an earlier window"
    assert abs(points_of(later)["estimated_accuracy"].value - realised) < 0.03
    naive = run_monitor(steward, trusting, now=now)
    assert naive.detail["calibration"].startswith("none: scores taken as calibrated")
    assert points_of(naive)["estimated_accuracy"].value - realised > 0.05  # overconfident
    assert points_of(naive)["estimation_error"].status == "not enough data"


def test_bad_outputs_give_a_note_instead_of_a_number(steward: Steward) -> None:
    bare_deployment(steward)
    now = datetime.now(UTC)
    cases: dict[str, list[Any]] = {
        "needs positive-class scores": [0, 1] * 10,
        "scores must be probabilities in [0, 1]": [{"prediction": 1, "probability": 1.7}] * 20,
    }
    for hours, (note, outputs) in enumerate(cases.items(), start=1):
        write(steward, now - timedelta(hours=hours, minutes=-5), outputs)
        result = run_monitor(steward, monitor(steward), now=now - timedelta(hours=hours - 1))
        assert result.status == "not enough data" and result.error == ""
        assert {p.metric for p in result.points} == {
            f"estimated_{m}" for m in ("accuracy", "precision", "recall", "f1", "roc_auc")
        }
        assert all(p.value is None and note in p.detail["note"] for p in result.points)


def test_empty_and_one_row_windows_are_not_enough_data(steward: Steward) -> None:
    bare_deployment(steward)
    watching = monitor(steward)
    empty = run_monitor(steward, watching)
    assert (empty.status, empty.rows, empty.points) == ("not enough data", 0, [])
    write(steward, datetime.now(UTC) - timedelta(minutes=5), scored_rows(np.array([0.7])))
    one = run_monitor(steward, watching)
    assert one.status == "not enough data" and one.rows == 1
    assert "at least 10" in one.detail["note"]


def test_multiclass_models_get_an_estimated_accuracy_from_their_confidence(
    steward: Steward,
) -> None:
    bare_deployment(steward)
    rng = np.random.default_rng(7)
    probabilities = rng.dirichlet([1, 1, 1], 3000)
    truth = np.array([rng.choice(3, p=row) for row in probabilities])
    names = np.array(["a", "b", "c"])
    outputs = [
        {
            "prediction": names[row.argmax()],
            **{f"proba_{n}": float(v) for n, v in zip(names, row, strict=True)},
        }
        for row in probabilities
    ]
    now = datetime.now(UTC)
    write(steward, now - timedelta(minutes=20), outputs, names[truth].tolist())
    points = points_of(run_monitor(steward, monitor(steward, calibration_rows=1_000_000), now=now))
    assert set(points) == {"estimated_accuracy", "estimation_error"}
    realised = float((probabilities.argmax(axis=1) == truth).mean())
    assert points["estimated_accuracy"].value == pytest.approx(probabilities.max(axis=1).mean())
    assert points["estimation_error"].value < 0.03
    assert points["estimation_error"].detail["realised"] == pytest.approx(realised)
    write(steward, now - timedelta(minutes=10), ["a", "b", "c"] * 5)
    only_classes = run_monitor(steward, monitor(steward, window={"last": 15}), now=now)
    assert (
        "needs positive-class scores"
        in points_of(only_classes)["estimated_accuracy"].detail["note"]
    )


# -- through the API, with real traffic ------------------------------------------------------

SCORER = """
import numpy as np
import pandas as pd


class Scorer:
    \"\"\"A fitted logistic regression's coefficients, answering a class and its probability.\"\"\"

    def __init__(self, w1, w2, b):
        self.w1, self.w2, self.b = w1, w2, b

    def predict(self, frame):
        z = self.w1 * frame["x1"].to_numpy() + self.w2 * frame["x2"].to_numpy() + self.b
        p = 1 / (1 + np.exp(-z))
        return pd.DataFrame({"prediction": (p >= 0.5).astype(int), "probability": p})
"""


@pytest.fixture
def scoring(
    any_api: httpx.Client, model: LogisticRegression, tmp_path: Path
) -> Iterator[httpx.Client]:
    """A deployed scorer whose version carries its accuracy and calibration on held-out data."""
    x, y = draw(np.random.default_rng(8), 4000, 2.0)
    p = model.predict_proba(x)[:, 1]
    (tmp_path / "scorer.py").write_text(SCORER)
    (w1, w2), b = model.coef_[0].tolist(), float(model.intercept_[0])
    spec = {
        "flavor": "python",
        "files": [{"role": "model", "name": "scorer.py"}],
        "input_schema": {
            "columns": [{"name": "x1", "type": "float"}, {"name": "x2", "type": "float"}]
        },
        "flavor_options": {"class": "Scorer", "init_kwargs": {"w1": w1, "w2": w2, "b": b}},
        "trust_reason": "test model written in this test",
        "metrics": {"accuracy": float(((p >= 0.5) == y).mean())},
        "metadata": {"calibration": fit_calibration(p, y).to_dict()},
    }
    assert any_api.post("/api/v1/models", json={"name": "churn"}).status_code == 201
    created = any_api.post(
        "/api/v1/models/churn/versions",
        data=version_form(spec),
        files=[upload(tmp_path / "scorer.py")],
    )
    assert created.status_code == 201, created.text
    deployed = any_api.post("/api/v1/deployments", json={"model": "churn", "version": 1})
    assert deployed.status_code == 202, deployed.text
    wait_applied(any_api, deployed.json())
    yield any_api


def send(
    api: httpx.Client, steward: Steward, rng: np.random.Generator, scale: float, logged: int
) -> None:
    """Eight requests of 100 rows, then wait until the log holds ``logged`` requests."""
    for _ in range(8):
        x = rng.normal(0, scale, (100, 2))
        rows = [{"x1": float(a), "x2": float(b)} for a, b in x]
        response = api.post(f"/api/v1/deployments/{DEPLOYMENT}/predict", json=rows)
        assert response.status_code == 200, response.text
    reader = PredictionLog(steward.settings.logs_url)
    deadline = time.monotonic() + 20
    while reader.read(DEPLOYMENT).num_rows < logged and time.monotonic() < deadline:
        time.sleep(0.1)
    reader.close()


def test_estimated_accuracy_breaches_when_the_inputs_shift_with_no_label_in_sight(
    scoring: httpx.Client, any_steward: Steward
) -> None:
    rng = np.random.default_rng(9)
    created = scoring.post(
        f"/api/v1/deployments/{DEPLOYMENT}/monitors",
        json={"name": "cbpe", "spec": {"type": "estimated_performance", "window": {"last": 800}}},
    )
    assert created.status_code == 201, created.text
    run = f"/api/v1/monitors/{created.json()['id']}/run"
    send(scoring, any_steward, rng, 2.0, logged=8)
    calm = scoring.post(run).json()
    points = {p["metric"]: p for p in calm["points"]}
    assert calm["status"] == "ok" and calm["rows"] == 800
    assert calm["detail"]["calibration"] == "metadata of v1"
    accuracy = points["estimated_accuracy"]
    assert accuracy["value"] > 0.85 and accuracy["low"] < accuracy["value"] < accuracy["high"]
    assert accuracy["threshold"] < accuracy["value"] and accuracy["detail"]["direction"] == "min"
    assert points["estimation_error"]["status"] == "not enough data"  # no labels yet

    send(scoring, any_steward, rng, 0.5, logged=16)
    shifted = scoring.post(run).json()
    points = {p["metric"]: p for p in shifted["points"]}
    assert shifted["status"] == "breached" and "metric.breached" in shifted["events"]
    assert points["estimated_accuracy"]["status"] == "breached"
    assert points["estimated_accuracy"]["value"] < 0.75
    audited = scoring.get("/api/v1/audit", params={"object_type": "monitor"}).json()
    breach = next(e for e in audited if e["action"] == "metric.breached")
    assert breach["after"]["metric"] == "estimated_accuracy" and breach["after"]["version"] == 1


def test_segments_get_estimates_of_their_own(steward: Steward) -> None:
    bare_deployment(steward)
    rng = np.random.default_rng(10)
    confident, unsure = rng.uniform(0.9, 1.0, 300), rng.uniform(0.5, 0.6, 300)
    p = np.concatenate([confident, unsure])
    regions = [{"region": "north"}] * 300 + [{"region": "south"}] * 300
    write(steward, datetime.now(UTC) - timedelta(minutes=5), scored_rows(p), inputs=regions)
    result = run_monitor(steward, monitor(steward, segment_by="region"))
    accuracy = {p.segment: p.value for p in result.points if p.metric == "estimated_accuracy"}
    assert accuracy[""] == pytest.approx(p.mean())
    assert accuracy["region=north"] == pytest.approx(confident.mean())
    assert accuracy["region=south"] == pytest.approx(unsure.mean())


@pytest.mark.parametrize(
    "predicted",
    [{"0", "1"}, {"0"}, {"1"}, {"False", "True"}, {"false"}, {"no", "yes"}, {"1", "2"}, {"a", "b"}],
)
def test_the_positive_class_is_the_one_realised_performance_takes(predicted: set[str]) -> None:
    realised = positive_of(np.unique(np.array(sorted(predicted), dtype=object)))
    assert _positive(None, predicted) == str(realised)


@pytest.mark.parametrize("predicted", [set(), {"approve"}, {"a", "b", "c"}])
def test_predictions_that_cannot_tell_the_positive_class_ask_for_it(predicted: set[str]) -> None:
    assert _positive(None, predicted) is None
    assert _positive("approve", predicted) == "approve"
