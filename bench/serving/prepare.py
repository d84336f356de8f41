"""Fit the two benchmark models once and hand the same fitted objects to every system.

Runs in the project's virtual environment. Both models are fitted on a DataFrame with
20 named float columns (fitted on a bare array, scikit-learn would warn on every
request of a server that passes names, and slow it unfairly). They are pickled for the
floor, MLflow and BentoML, whose environments pin the same scikit-learn release; the
modelsteward side registers the same objects through the SDK. ``expected.json`` holds
what they predict for the request rows, so the driver can check every system's answer.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import pandas as pd
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def training_frame() -> tuple[pd.DataFrame, list[int]]:
    values = common.rows(common.TRAIN_ROWS, "train")
    return pd.DataFrame(values, columns=common.FEATURES), common.labels(values)


def fit(kind: str, features: pd.DataFrame, target: list[int]) -> object:
    if kind == "lr":
        return LogisticRegression(max_iter=1_000).fit(features, target)
    return RandomForestClassifier(n_estimators=100, random_state=0).fit(features, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    folder = args.workdir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    features, target = training_frame()
    expected: dict[str, dict[str, list[int]]] = {}
    for kind in common.MODELS:
        started = time.perf_counter()
        model = fit(kind, features, target)
        with open(folder / f"{kind}.pkl", "wb") as out:
            pickle.dump(model, out)
        expected[kind] = {
            size: [
                int(v)
                for v in model.predict(  # type: ignore[attr-defined]
                    pd.DataFrame(common.request_rows(size), columns=common.FEATURES)
                )
            ]
            for size in ("single", "batch")
        }
        seconds = time.perf_counter() - started
        print(f"  [prepare] {common.MODEL_LABELS[kind]} fitted in {seconds:.1f}s", flush=True)
    common.write_json(
        args.workdir / "expected.json", {"sklearn": sklearn.__version__, "predictions": expected}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
