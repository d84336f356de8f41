"""At registration the training rows are predicted as serving logs them, and profiled:
prediction drift's baseline from the first window on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from tests.helpers import training_frame

from modelsteward.monitoring.families.drift import prediction_baseline
from modelsteward.monitoring.families.drift.prediction_baseline import profile_predictions
from modelsteward.registry.schema_inference import infer_schema


def test_a_classifier_profile_holds_its_classes_and_probabilities() -> None:
    frame, labels = training_frame(rows=500, seed=1)
    model = LogisticRegression().fit(frame, labels)
    profile = profile_predictions(model, frame, infer_schema(frame))
    assert profile is not None and profile["rows"] == 500
    assert set(profile["columns"]) == {"prediction", "probability"}
    probability = profile["columns"]["probability"]
    assert probability["mean"] == pytest.approx(model.predict_proba(frame)[:, 1].mean())


def test_a_multiclass_profile_has_one_probability_column_per_class() -> None:
    iris = load_iris(as_frame=True)
    model = LogisticRegression(max_iter=500).fit(iris.data, iris.target)
    profile = profile_predictions(model, iris.data, infer_schema(iris.data))
    assert profile is not None
    assert sorted(profile["columns"]) == ["prediction", "proba_0", "proba_1", "proba_2"]


def test_a_regressor_profile_is_its_prediction_and_the_target_column_is_left_out() -> None:
    frame, labels = training_frame(rows=300, seed=2)
    model = LinearRegression().fit(frame, labels.astype(float))
    with_target = frame.assign(target=labels)  # training data often carries the target
    profile = profile_predictions(model, with_target, infer_schema(frame))
    assert profile is not None and list(profile["columns"]) == ["prediction"]


def test_a_big_training_set_is_sampled(monkeypatch: Any) -> None:
    monkeypatch.setattr(prediction_baseline, "MAX_ROWS", 200)
    frame, labels = training_frame(rows=1000, seed=3)
    model = LogisticRegression().fit(frame, labels)
    profile = profile_predictions(model, frame, infer_schema(frame))
    assert profile is not None and profile["rows"] == 200


class Broken:
    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        raise RuntimeError("cannot predict")


def test_no_profile_where_it_cannot_be_made() -> None:
    frame, labels = training_frame(rows=100, seed=4)
    model = LogisticRegression().fit(frame, labels)
    schema = infer_schema(frame)
    assert profile_predictions(Broken(), frame, schema) is None  # the model failed
    assert profile_predictions(model, frame[["age"]], schema) is None  # a feature is missing
    assert profile_predictions(model, frame.head(0), schema) is None  # no rows
    assert profile_predictions(model, frame, None) is None  # no input schema
    tensor = infer_schema(np.zeros((3, 2, 2)))
    assert profile_predictions(model, frame, tensor) is None  # not tabular
