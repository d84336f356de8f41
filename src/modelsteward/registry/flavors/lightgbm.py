"""LightGBM models in LightGBM's native text format (``model.txt``).

The default flavor for ``LGBMModel`` estimators (``LGBMClassifier``...) and raw
``Booster`` objects. The text format holds trees and parameters only; loading it runs
no code, so it needs no trust decision (``needs_trust`` is False). LightGBM's own parser
trusts its input, so validation first checks the structure in Python
(:mod:`.lightgbm_text`), then parses the file in a child process.

The native format keeps no class labels: a loaded classifier predicts class indices
(``0..k-1``), which match the original labels when those were ``0..k-1``. A loaded
classifier says so (``is_classifier``) and gives ``classes_`` (those indices) and
``predict_proba``, so serving logs its probabilities (``serving.scoring``) and the
default estimated-performance monitor has what it reads, as for XGBoost's classifiers.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput, Unavailable
from modelsteward.registry.flavors.lightgbm_text import check_lightgbm_text
from modelsteward.registry.flavors.native_check import parse_in_child

FILE_NAME = "model.txt"

_PARSE = """
import lightgbm
booster = lightgbm.Booster(model_file=sys.argv[1])
facts = {"lightgbm_version": lightgbm.__version__, "num_trees": booster.num_trees()}
"""


def _require_lightgbm() -> None:
    if importlib.util.find_spec("lightgbm") is None:
        raise Unavailable(
            "the lightgbm flavor needs lightgbm: pip install 'modelsteward[lightgbm]'"
        )


class LightGBMModel:
    """A loaded Booster with sklearn-style ``predict`` (labels for classifiers)."""

    def __init__(self, booster: Any, objective: str | None) -> None:
        self.booster = booster
        self.objective = objective or ""

    @property
    def is_classifier(self) -> bool:
        return self.objective.startswith(("binary", "multiclass"))

    @property
    def classes_(self) -> np.ndarray:
        """The class indices ``predict`` answers with; only classifiers have them."""
        if not self.is_classifier:
            raise AttributeError("a LightGBM regressor or ranker has no classes_")
        return np.arange(max(2, int(self.booster.num_model_per_iteration())))

    def predict_proba(self, X: Any) -> Any:
        if not self.is_classifier:
            raise InvalidInput(f"a LightGBM {self.objective or 'model'} gives no probabilities")
        raw = np.asarray(self.booster.predict(X))
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw

    def predict(self, X: Any) -> Any:
        if self.is_classifier:
            return np.argmax(self.predict_proba(X), axis=1)
        return self.booster.predict(X)


class LightGBMFlavor:
    name = "lightgbm"
    description = "LightGBM models in LightGBM's native text format"
    needs_trust = False
    self_contained = True

    def can_save(self, model: object) -> bool:
        if "lightgbm" not in sys.modules:
            return False
        import lightgbm

        return isinstance(model, lightgbm.LGBMModel | lightgbm.Booster)

    def save(self, model: object, directory: Path) -> list[Path]:
        target = directory / FILE_NAME
        booster: Any = getattr(model, "booster_", model)
        booster.save_model(str(target))
        return [target]

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        _require_lightgbm()
        facts = check_lightgbm_text(path.read_bytes(), path.name)
        return {**facts, **parse_in_child(_PARSE, path, what="LightGBM")}

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        _require_lightgbm()
        import lightgbm

        data = path.read_bytes()
        facts = check_lightgbm_text(data, path.name)
        try:
            booster = lightgbm.Booster(model_str=data.decode("utf-8"))
        except lightgbm.basic.LightGBMError as exc:
            raise InvalidInput(f"{path.name} is not a valid LightGBM model") from exc
        return LightGBMModel(booster, facts["objective"])
