"""A served classifier answers with its classes and logs the probabilities behind them.

Callers see exactly what ``predict`` gives; the prediction log also keeps each row's
probability, so ROC AUC, log loss and label-free estimated performance work on real
traffic; V2 callers may ask for the ``predict_proba`` output.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from tests.helpers import admin_token_of, training_frame
from tests.monitoring.test_runner import wait_applied

from modelsteward.context import Steward
from modelsteward.monitoring.service import list_monitors, run_now
from modelsteward.sdk.client import Client
from modelsteward.serving.predlog import PredictionLog
from modelsteward.serving.scoring import ClassifierAnswer, answering

# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")


def serve(api: httpx.Client, steward: Steward, model: Any, name: str, frame: pd.DataFrame) -> str:
    with Client(str(api.base_url), admin_token_of(steward)) as client:
        client.register(model, name=name, sample=frame, training_data=frame)
    response = api.post("/api/v1/deployments", json={"model": name, "version": 1})
    assert response.status_code == 202, response.text
    wait_applied(api, response.json())
    return str(response.json()["deployment"])


def logged(steward: Steward, deployment: str, requests: int) -> list[dict[str, Any]]:
    """The logged rows once the writer has flushed ``requests`` records."""
    reader = PredictionLog(steward.settings.logs_url)
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            table = reader.read(deployment).to_pylist()
            if len(table) >= requests:
                return table
            time.sleep(0.2)
    finally:
        reader.close()
    raise AssertionError(f"{deployment}: {len(table)} of {requests} records logged")


def churn_classifier(
    api: httpx.Client, steward: Steward, seed: int, rows: int = 400
) -> tuple[LogisticRegression, pd.DataFrame, str]:
    """A logistic regression fitted on ``rows`` customers, deployed: (model, data, name)."""
    frame, labels = training_frame(rows=rows, seed=seed)
    model = LogisticRegression().fit(frame, labels)
    return model, frame, serve(api, steward, model, "churn", frame)


def test_callers_get_classes_and_the_log_keeps_each_probability(
    api: httpx.Client, steward: Steward
) -> None:
    model, frame, deployment = churn_classifier(api, steward, seed=5)
    rows = frame.head(25)
    response = api.post(f"/api/v1/deployments/{deployment}/predict", json=rows.to_dict("records"))
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == model.predict(rows).tolist()  # unchanged
    (record,) = logged(steward, deployment, 1)
    expected = zip(
        model.predict(rows).tolist(), model.predict_proba(rows)[:, 1].tolist(), strict=True
    )
    assert json.loads(record["outputs"]) == [
        {"prediction": c, "probability": p} for c, p in expected
    ]


def test_v2_callers_may_ask_for_predict_proba_and_unknown_outputs_are_refused_first(
    api: httpx.Client, steward: Steward
) -> None:
    model, frame, deployment = churn_classifier(api, steward, seed=6)
    rows = frame.head(3)
    inputs = [
        {"name": c, "shape": [3], "datatype": "FP64", "data": rows[c].astype(float).tolist()}
        for c in frame.columns
    ]
    asked = api.post(
        f"/v2/models/{deployment}/infer",
        json={"inputs": inputs, "outputs": [{"name": "predict_proba"}]},
    )
    assert asked.status_code == 200, asked.text
    (proba,) = asked.json()["outputs"]
    assert proba["name"] == "predict_proba" and proba["shape"] == [3, 2]
    assert np.allclose(proba["data"], model.predict_proba(rows).ravel())
    plain = api.post(f"/v2/models/{deployment}/infer", json={"inputs": inputs}).json()
    assert [o["name"] for o in plain["outputs"]] == ["tensor"]  # as the schema announces

    refused = api.post(
        f"/v2/models/{deployment}/infer", json={"inputs": inputs, "outputs": [{"name": "nope"}]}
    )
    assert refused.status_code == 400
    assert "'nope'" in refused.json()["error"] and "predict_proba" in refused.json()["error"]
    again = api.post(f"/v2/models/{deployment}/infer", json={"inputs": inputs})
    assert again.status_code == 200
    statuses = sorted(r["status"] for r in logged(steward, deployment, 4))
    assert statuses == [200, 200, 200, 400]  # the refused one predicted nothing


def test_a_multiclass_model_logs_one_probability_per_class(
    api: httpx.Client, steward: Steward
) -> None:
    iris = load_iris(as_frame=True)
    frame = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(frame, iris.target.map(dict(enumerate(iris.target_names))))
    deployment = serve(api, steward, model, "species", frame)
    rows = frame.sample(10, random_state=0)
    response = api.post(f"/api/v1/deployments/{deployment}/predict", json=rows.to_dict("records"))
    assert response.json()["predictions"] == model.predict(rows).tolist()
    (record,) = logged(steward, deployment, 1)
    outputs = json.loads(record["outputs"])
    assert list(outputs[0]) == ["prediction", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert np.allclose(
        [[o[f"proba_{c}"] for c in model.classes_] for o in outputs], model.predict_proba(rows)
    )


def test_a_regressor_is_served_and_logged_as_before_without_estimated_performance(
    api: httpx.Client, steward: Steward
) -> None:
    frame, labels = training_frame(rows=200, seed=7)
    model = LinearRegression().fit(frame, labels.astype(float))
    deployment = serve(api, steward, model, "spend", frame)
    rows = frame.head(4)
    response = api.post(f"/api/v1/deployments/{deployment}/predict", json=rows.to_dict("records"))
    assert np.allclose(response.json()["predictions"], model.predict(rows))
    (record,) = logged(steward, deployment, 1)
    assert np.allclose(json.loads(record["outputs"]), model.predict(rows))
    names = {m.name for m in list_monitors(steward, deployment)}
    assert "performance" in names and "estimated-performance" not in names


def test_estimated_performance_runs_on_served_traffic_without_labels(
    api: httpx.Client, steward: Steward
) -> None:
    model, frame, deployment = churn_classifier(api, steward, seed=8, rows=600)
    labels = training_frame(rows=600, seed=8)[1]
    body = frame.sample(300, random_state=1).to_dict("records")
    assert api.post(f"/api/v1/deployments/{deployment}/predict", json=body).status_code == 200
    logged(steward, deployment, 1)
    (monitor,) = [
        m for m in list_monitors(steward, deployment) if m.type == "estimated_performance"
    ]
    run = run_now(steward, monitor.id)
    points = {p.metric: p for p in run.points if not p.segment}
    assert run.status in {"ok", "breached"}, run.detail
    # the model's own confidence on its training population: LogisticRegression's
    # probabilities are close to calibrated, so the estimate is near the realised accuracy
    realised = float((model.predict(frame) == labels).mean())
    assert abs(points["estimated_accuracy"].value - realised) < 0.08


def test_where_predict_breaks_a_tie_differently_the_answer_is_still_predicts() -> None:
    # Constant features: no split, the prior of a balanced sample is 0.5 for both classes.
    # GradientBoostingClassifier's predict picks the second class on a tie; argmax would
    # pick the first.
    x = np.zeros((40, 2))
    y = np.array([0, 1] * 20)
    model = GradientBoostingClassifier(n_estimators=3).fit(x, y)
    answer = answering(model)
    assert answer is not None
    got = answer(x[:5])
    assert isinstance(got, ClassifierAnswer)
    assert np.allclose(got.probabilities, 0.5)
    assert got.predictions.tolist() == model.predict(x[:5]).tolist() == [1] * 5


def test_models_without_usable_probabilities_are_answered_by_predict_alone() -> None:
    frame, labels = training_frame(rows=100, seed=9)
    assert answering(SVC().fit(frame, labels)) is None  # no probability=True
    assert answering(LinearRegression().fit(frame, labels)) is None
    assert answering(object()) is None


def test_a_forests_tied_votes_need_no_second_pass_through_the_trees() -> None:
    frame, labels = training_frame(rows=300, seed=10)
    forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(frame, labels)
    rows = frame.sample(300, random_state=2, replace=True)
    expected = forest.predict(rows)
    tied = (forest.predict_proba(rows) == 0.5).all(axis=1)
    assert tied.any()  # two trees each way: the ties a tie-check would ask predict about

    def second_pass(_: object) -> None:
        raise AssertionError("predict was called: the forest ran twice")

    forest.predict = second_pass  # type: ignore[method-assign]
    answer = answering(forest)
    assert answer is not None
    assert answer(rows).predictions.tolist() == expected.tolist()


def test_a_lightgbm_classifier_logs_probabilities_and_its_estimated_performance_runs(
    api: httpx.Client, steward: Steward
) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    frame, labels = training_frame(rows=600, seed=11)
    model = lightgbm.LGBMClassifier(n_estimators=20, min_child_samples=10, verbose=-1)
    model.fit(frame, labels)
    deployment = serve(api, steward, model, "churn-lgbm", frame)
    rows = frame.sample(300, random_state=3)
    response = api.post(f"/api/v1/deployments/{deployment}/predict", json=rows.to_dict("records"))
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == model.predict(rows).tolist()  # unchanged
    (record,) = logged(steward, deployment, 1)
    outputs = json.loads(record["outputs"])
    assert [o["prediction"] for o in outputs] == model.predict(rows).tolist()
    assert np.allclose([o["probability"] for o in outputs], model.predict_proba(rows)[:, 1])

    (monitor,) = [
        m for m in list_monitors(steward, deployment) if m.type == "estimated_performance"
    ]
    run = run_now(steward, monitor.id)
    assert run.status in {"ok", "breached"}, run.detail
    points = {p.metric: p for p in run.points if not p.segment}
    expected = float(
        np.maximum(model.predict_proba(rows)[:, 1], model.predict_proba(rows)[:, 0]).mean()
    )
    assert points["estimated_accuracy"].value == pytest.approx(expected, abs=0.02)

    inputs = [
        {
            "name": c,
            "shape": [3],
            "datatype": "FP64",
            "data": rows[c].head(3).astype(float).tolist(),
        }
        for c in frame.columns
    ]
    asked = api.post(
        f"/v2/models/{deployment}/infer",
        json={"inputs": inputs, "outputs": [{"name": "predict_proba"}]},
    )
    assert asked.status_code == 200, asked.text
    (proba,) = asked.json()["outputs"]
    assert proba["shape"] == [3, 2]
    assert np.allclose(proba["data"], model.predict_proba(rows.head(3)).ravel())


def test_a_lightgbm_regressor_gives_no_probabilities() -> None:
    lightgbm = pytest.importorskip("lightgbm")
    from modelsteward.registry.flavors.lightgbm import LightGBMModel

    frame, labels = training_frame(rows=200, seed=12)
    regressor = lightgbm.LGBMRegressor(n_estimators=5, verbose=-1).fit(frame, labels)
    loaded = LightGBMModel(regressor.booster_, "regression")
    assert answering(loaded) is None
    assert not hasattr(loaded, "classes_")
