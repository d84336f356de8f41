"""The BentoML side: one service, one worker, the pickled model from ``prepare.py``.

Runs in ``bench/.venv-bentoml`` with ``bentoml serve bento_service:Classifier``
(``run.sh`` sets ``BENCH_MODEL`` to the pickle and turns usage tracking off). The
service's input is BentoML's own: a JSON object whose ``data`` field is a list of
records, which BentoML's pydantic layer turns into a DataFrame with the declared
columns; the answer is the NumPy array of labels, serialised by BentoML. Access log
lines are off, as in ``steward server`` (BentoML writes one per request by default);
its Prometheus metrics stay on, as modelsteward's do.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
import pandas as pd
from bentoml.validators import DataframeSchema

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


@bentoml.service(workers=1, traffic={"timeout": 60}, logging={"access": {"enabled": False}})
class Classifier:
    def __init__(self) -> None:
        with open(os.environ["BENCH_MODEL"], "rb") as source:
            self.model = pickle.load(source)

    @bentoml.api
    def predict(
        self,
        data: Annotated[pd.DataFrame, DataframeSchema(orient="records", columns=common.FEATURES)],
    ) -> np.ndarray:
        return self.model.predict(data)
