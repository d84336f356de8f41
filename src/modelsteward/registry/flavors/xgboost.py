"""XGBoost models in XGBoost's native format (``model.ubj``, or ``.json``).

The default flavor for ``XGBModel`` estimators (``XGBClassifier``...) and raw
``Booster`` objects. The native format holds trees and parameters only; loading it
runs no code, so it needs no trust decision (``needs_trust`` is False). Validation
parses the file in a child process, because XGBoost aborts on some malformed input.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput, Unavailable
from modelsteward.registry.flavors.native_check import parse_in_child

FILE_NAME = "model.ubj"

_PARSE = """
import xgboost
booster = xgboost.Booster()
with open(sys.argv[1], "rb") as handle:
    booster.load_model(bytearray(handle.read()))
sk = json.loads(booster.attr("scikit_learn") or "{}")
config = json.loads(booster.save_config())
facts = {
    "xgboost_version": xgboost.__version__,
    "num_features": booster.num_features(),
    "num_boosted_rounds": booster.num_boosted_rounds(),
    "objective": config["learner"]["objective"]["name"],
    "estimator_type": sk.get("_estimator_type"),
}
"""


def _require_xgboost() -> None:
    if importlib.util.find_spec("xgboost") is None:
        raise Unavailable("the xgboost flavor needs xgboost: pip install 'modelsteward[xgboost]'")


class BoosterModel:
    """A raw Booster (saved without the sklearn wrapper), with an sklearn-style ``predict``."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, X: Any) -> Any:
        import xgboost

        return self.booster.predict(xgboost.DMatrix(X))


class XGBoostFlavor:
    name = "xgboost"
    description = "XGBoost models in XGBoost's native UBJSON/JSON format"
    needs_trust = False
    self_contained = True

    def can_save(self, model: object) -> bool:
        if "xgboost" not in sys.modules:
            return False
        import xgboost

        return isinstance(model, xgboost.XGBModel | xgboost.Booster)

    def save(self, model: object, directory: Path) -> list[Path]:
        target = directory / FILE_NAME
        model.save_model(str(target))  # type: ignore[attr-defined]
        return [target]

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        _require_xgboost()
        with path.open("rb") as handle:
            head = handle.read(1)
        if head != b"{":  # both UBJSON and JSON models are one object
            raise InvalidInput(f"{path.name} is not an XGBoost JSON or UBJSON model")
        return parse_in_child(_PARSE, path, what="XGBoost")

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        _require_xgboost()
        import xgboost

        wrappers = {
            "classifier": xgboost.XGBClassifier,
            "regressor": xgboost.XGBRegressor,
            "ranker": xgboost.XGBRanker,
        }
        # The buffer form detects JSON vs UBJSON from content, whatever the file's name.
        data = bytearray(path.read_bytes())
        booster = xgboost.Booster()
        try:
            booster.load_model(data)
        except xgboost.core.XGBoostError as exc:
            raise InvalidInput(f"{path.name} is not a valid XGBoost model") from exc
        kind = json.loads(booster.attr("scikit_learn") or "{}").get("_estimator_type")
        if kind not in wrappers:
            return BoosterModel(booster)
        model = wrappers[kind]()
        model.load_model(data)
        return model
