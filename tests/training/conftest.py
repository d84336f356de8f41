"""Fixtures of the training tests: a model with a champion version, real pipeline code
written to disk, and small CSV data."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import follow_no_lifecycle, sklearn_spec, skops_file, training_frame

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version

DETERMINISTIC = """
from sklearn.linear_model import LogisticRegression

def fit(context):
    context.log("training on %d rows" % len(context.data))
    context.progress(0.5, "half way")
    features = context.data.drop(columns=[context.target])
    model = LogisticRegression(C=context.params.get("C", 1.0), random_state=context.seed)
    model.fit(features, context.data[context.target])
    return model, {"accuracy": float(model.score(features, context.data[context.target]))}
"""

NOISY = """
import os
from sklearn.ensemble import RandomForestClassifier

def fit(context):
    features = context.data.drop(columns=[context.target])
    seed = int.from_bytes(os.urandom(4), "little")
    model = RandomForestClassifier(n_estimators=5, random_state=seed, max_depth=3)
    model.fit(features, context.data[context.target])
    return model, {"accuracy": float(model.score(features, context.data[context.target]))}
"""

HANGS = """
import time

def fit(context):
    context.log("about to hang")
    while True:
        time.sleep(0.1)
"""

HOGS = """
def fit(context):
    hog = []
    while True:
        hog.append(bytearray(64 * 1024 * 1024))
"""

RAISES = """
def fit(context):
    raise RuntimeError("the features are all missing")
"""

NO_MODEL = """
def fit(context):
    return None, {}
"""

REGRESSOR = """
from sklearn.linear_model import LinearRegression

def fit(context):
    features = context.data.drop(columns=[context.target])
    model = LinearRegression().fit(features, context.data[context.target].astype(float))
    return model, {"r2": 0.0}
"""


def write_source(folder: Path, code: str, module: str = "train") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return folder


def write_data(path: Path, rows: int = 60) -> Path:
    frame, labels = training_frame(rows=rows)
    frame["approved"] = labels
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def pipeline_of(source: Path, data: Path, **extra: Any) -> dict[str, Any]:
    return {
        "entry_point": "train:fit",
        "source": {"kind": "local", "path": str(source)},
        "data": {"kind": "file", "location": str(data)},
        "target": "approved",
        "params": {"C": 0.5},
        "seed": 7,
        "timeout_s": 120,
        "memory_mb": 2048,
        "trust_reason": "our own training code, reviewed",
        **extra,
    }


@pytest.fixture
def credit(steward: Steward, tmp_path: Path) -> Steward:
    """Model ``credit`` whose version 1 (the champion) is a fitted classifier."""
    return with_champion(steward, tmp_path)


@pytest.fixture
def any_credit(any_steward: Steward, tmp_path: Path) -> Steward:
    """Like ``credit``, once on SQLite and once on PostgreSQL."""
    return with_champion(any_steward, tmp_path)


def with_champion(steward: Steward, tmp_path: Path) -> Steward:
    follow_no_lifecycle(steward)
    create_model(steward, SYSTEM, ModelSpec(name="credit"))
    blob = steward.artifacts.put_file(skops_file(tmp_path / "v1"))
    frame, _ = training_frame()
    spec = VersionSpec.model_validate(
        sklearn_spec(
            output_schema={
                "columns": [{"name": "tensor", "type": "tensor", "dtype": "int64", "shape": [-1]}]
            },
            input_schema={
                "columns": [{"name": "age", "type": "integer"}, {"name": "income", "type": "float"}]
            },
        )
    )
    register_version(steward, SYSTEM, "credit", spec, {"model.skops": blob})
    return steward
