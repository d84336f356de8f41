"""Builders shared by tests: real fitted models saved in real formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io
from sklearn.linear_model import LogisticRegression


def training_frame(rows: int = 80, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.integers(18, 90, rows), "income": rng.normal(50, 10, rows)})
    labels = (frame["income"] + rng.normal(0, 5, rows) > 50).astype(int).to_numpy()
    return frame, labels


def fitted_model(seed: int = 0) -> LogisticRegression:
    frame, labels = training_frame(seed=seed)
    return LogisticRegression().fit(frame, labels)


def skops_file(directory: Path, seed: int = 0, name: str = "model.skops") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    skops.io.dump(fitted_model(seed), path)
    return path


def version_form(spec: dict[str, Any]) -> dict[str, str]:
    return {"spec": json.dumps(spec)}


def upload(path: Path, name: str | None = None) -> tuple[str, tuple[str, bytes, str]]:
    return ("file", (name or path.name, path.read_bytes(), "application/octet-stream"))


def sklearn_spec(**extra: Any) -> dict[str, Any]:
    return {"flavor": "sklearn", "files": [{"role": "model", "name": "model.skops"}], **extra}
