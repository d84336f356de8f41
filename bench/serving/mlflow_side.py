"""Save the benchmark models as MLflow models, for ``mlflow models serve``.

Runs in ``bench/.venv-mlflow``. The pickled objects from ``prepare.py`` are saved with
``mlflow.sklearn.save_model`` and a signature inferred from the training columns, so
the scoring server checks and converts each request against the schema, as
modelsteward does. MLflow 3 serializes with skops by default; the forest's tree type
has to be listed as trusted to be loaded (as modelsteward's sklearn flavor does by
default). ``run.sh`` then runs
``mlflow models serve --env-manager local --workers 1`` on each folder.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sys
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import infer_signature

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    sample = pd.DataFrame(common.rows(50, "train"), columns=common.FEATURES)
    for kind in common.MODELS:
        with open(args.workdir / "models" / f"{kind}.pkl", "rb") as source:
            model = pickle.load(source)
        target = args.workdir / "mlflow" / kind
        if (target / "MLmodel").exists():
            continue
        shutil.rmtree(target, ignore_errors=True)
        mlflow.sklearn.save_model(
            model,
            str(target),
            signature=infer_signature(sample, model.predict(sample)),
            skops_trusted_types=TRUSTED_TYPES,
        )
        print(f"  [mlflow] saved {common.MODEL_LABELS[kind]} (mlflow {mlflow.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
