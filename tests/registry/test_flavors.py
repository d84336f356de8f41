"""The built-in flavors: save, validate without running code, load, and refuse bad files."""

from __future__ import annotations

import gzip
import pickle
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import lightgbm
import numpy as np
import pytest
import xgboost
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput
from modelsteward.registry.flavors.base import Flavor, flavor_for, get_flavor

X_TRAIN = np.random.default_rng(0).normal(size=(50, 4))
Y_TRAIN = (X_TRAIN[:, 0] + X_TRAIN[:, 1] > 0).astype(int)


def _double(X: Any) -> Any:
    return X * 2


class Doubler(BaseEstimator, TransformerMixin):
    def fit(self, X: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, X: Any) -> Any:
        return X * 2


class _CreatesFile:
    """Unpickling this creates a file: the shape of a malicious pickle."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.target), "w"))


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"STEWARD_HOME": str(tmp_path / "home"), **env})


def logistic() -> LogisticRegression:
    return LogisticRegression().fit(X_TRAIN, Y_TRAIN)


def onnx_model() -> tuple[Any, Any]:
    fitted = logistic()
    proto = convert_sklearn(
        fitted,
        initial_types=[("input", FloatTensorType([None, 4]))],
        options={id(fitted): {"zipmap": False}},
    )
    return proto, fitted.predict(X_TRAIN.astype(np.float32))


def xgb_model() -> tuple[Any, Any]:
    fitted = xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(X_TRAIN, Y_TRAIN)
    return fitted, fitted.predict(X_TRAIN)


def lgbm_model() -> tuple[Any, Any]:
    fitted = lightgbm.LGBMClassifier(n_estimators=5, min_child_samples=5, verbose=-1)
    fitted.fit(X_TRAIN, Y_TRAIN)
    return fitted, fitted.predict(X_TRAIN)


def sklearn_model() -> tuple[Any, Any]:
    fitted = logistic()
    return fitted, fitted.predict(X_TRAIN)


MODELS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "sklearn": sklearn_model,
    "onnx": onnx_model,
    "xgboost": xgb_model,
    "lightgbm": lgbm_model,
    "pickle": sklearn_model,
}


def saved(flavor: Flavor, model: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "saved"
    folder.mkdir(exist_ok=True)
    return flavor.save(model, folder)[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_saved_model_validates_and_loads_with_the_same_predictions(
    name: str, tmp_path: Path
) -> None:
    flavor, settings = get_flavor(name), settings_for(tmp_path)
    model, expected = MODELS[name]()
    path = saved(flavor, model, tmp_path)
    facts = flavor.validate(path, settings)
    loaded = flavor.load(path, settings, facts)
    np.testing.assert_array_equal(np.asarray(loaded.predict(X_TRAIN)), expected)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_file_cut_in_half_is_refused(name: str, tmp_path: Path) -> None:
    flavor = get_flavor(name)
    path = saved(flavor, MODELS[name]()[0], tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInput):
        flavor.validate(path, settings_for(tmp_path))


@pytest.mark.parametrize("name", [*sorted(MODELS), "python"])
@pytest.mark.parametrize("garbage", [b"\x00\xffgarbage" * 64, b""])
def test_garbage_or_empty_file_is_refused(name: str, garbage: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(garbage)
    with pytest.raises(InvalidInput):
        get_flavor(name).validate(path, settings_for(tmp_path))


@pytest.mark.parametrize(
    ("step", "type_name"),
    [(FunctionTransformer(_double), f"{__name__}._double"), (Doubler(), f"{__name__}.Doubler")],
)
def test_skops_type_outside_the_allow_list_is_refused_until_an_operator_trusts_it(
    step: Any, type_name: str, tmp_path: Path
) -> None:
    flavor = get_flavor("sklearn")
    pipeline = Pipeline([("step", step), ("model", LogisticRegression())]).fit(X_TRAIN, Y_TRAIN)
    path = saved(flavor, pipeline, tmp_path)
    with pytest.raises(InvalidInput, match="untrusted types") as refused:
        flavor.validate(path, settings_for(tmp_path))
    assert type_name in refused.value.message
    assert "STEWARD_TRUSTED_TYPES" in refused.value.message

    trusting = settings_for(tmp_path, STEWARD_TRUSTED_TYPES=f"numpy.float64, {type_name}")
    facts = flavor.validate(path, trusting)
    assert type_name in facts["untrusted_types"]
    loaded = flavor.load(path, trusting, facts)
    np.testing.assert_array_equal(loaded.predict(X_TRAIN), pipeline.predict(X_TRAIN))


def test_tree_models_load_with_the_built_in_allow_list(tmp_path: Path) -> None:
    flavor, settings = get_flavor("sklearn"), settings_for(tmp_path)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_TRAIN, Y_TRAIN)
    path = saved(flavor, forest, tmp_path)
    facts = flavor.validate(path, settings)
    assert facts["untrusted_types"] == ["sklearn.tree._tree.Tree"]
    assert facts["estimator"].endswith("RandomForestClassifier")
    np.testing.assert_array_equal(
        flavor.load(path, settings, facts).predict(X_TRAIN), forest.predict(X_TRAIN)
    )


def test_pickle_validation_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_CreatesFile(marker), protocol=5))
    facts = get_flavor("pickle").validate(path, settings_for(tmp_path))
    assert not marker.exists()
    assert facts["globals"] == ["io.open"]
    pickle.loads(path.read_bytes()).close()  # the pickle really does run code
    assert marker.exists()


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("xz", 3), ("bz2", 3)])
def test_joblib_files_validate_and_load(compress: Any, tmp_path: Path) -> None:
    flavor, settings = get_flavor("pickle"), settings_for(tmp_path)
    model = logistic()
    path = tmp_path / "model.joblib"
    joblib.dump(model, path, compress=compress)
    facts = flavor.validate(path, settings)
    assert facts["format"] == "joblib"
    assert "sklearn.linear_model._logistic.LogisticRegression" in facts["globals"]
    loaded = flavor.load(path, settings, facts)
    np.testing.assert_array_equal(loaded.predict(X_TRAIN), model.predict(X_TRAIN))


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3)])
def test_truncated_joblib_file_is_refused(compress: Any, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(logistic(), path, compress=compress)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(InvalidInput):
        get_flavor("pickle").validate(path, settings_for(tmp_path))


def test_gzipped_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl.gz"
    path.write_bytes(gzip.compress(b"not a pickle"))
    with pytest.raises(InvalidInput, match="not a pickle"):
        get_flavor("pickle").validate(path, settings_for(tmp_path))


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9, -30])
def test_truncated_lightgbm_file_is_refused_before_lightgbm_reads_it(
    keep: float, tmp_path: Path
) -> None:
    flavor = get_flavor("lightgbm")
    path = saved(flavor, lgbm_model()[0], tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)] if keep > 0 else data[: int(keep)])
    with pytest.raises(InvalidInput):
        flavor.validate(path, settings_for(tmp_path))


def test_lightgbm_tree_pointing_at_a_missing_feature_is_refused(tmp_path: Path) -> None:
    flavor = get_flavor("lightgbm")
    path = saved(flavor, lgbm_model()[0], tmp_path)
    text = path.read_text()
    start = text.index("split_feature=") + len("split_feature=")
    path.write_text(text[:start] + "9" + text[start + 1 :])  # max_feature_idx is 3
    with pytest.raises(InvalidInput, match="split_feature out of range"):
        flavor.validate(path, settings_for(tmp_path))


def test_python_model_loads_its_class_and_helpers_from_source(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    marker = tmp_path / "imported"
    (folder / "scaling_helpers.py").write_text("def scale(x, k):\n    return x * k\n")
    (folder / "mymodel.py").write_text(
        "from pathlib import Path\n"
        "from scaling_helpers import scale\n"
        f"Path({str(marker)!r}).touch()\n"
        "class MyModel:\n"
        "    def __init__(self, factor=1):\n"
        "        self.factor = factor\n"
        "    def predict(self, X):\n"
        "        return scale(X, self.factor)\n"
    )
    flavor, settings = get_flavor("python"), settings_for(tmp_path)
    facts = flavor.validate(folder / "mymodel.py", settings)
    assert facts["classes_with_predict"] == ["MyModel"]
    assert not marker.exists()  # validation parses, never imports
    path_before = list(sys.path)

    meta = {"module": "mymodel", "class": "MyModel", "init_kwargs": {"factor": 3}, **facts}
    model = flavor.load(folder / "mymodel.py", settings, meta)

    assert model.predict(2) == 6
    assert marker.exists()
    assert sys.path == path_before
    assert "scaling_helpers" not in sys.modules


@pytest.mark.parametrize(
    "source", ["def predict(x):\n    return x\n", "class Broken(:\n", "x = 1\x00\n"]
)
def test_python_source_without_a_class_or_with_bad_syntax_is_refused(
    source: str, tmp_path: Path
) -> None:
    path = tmp_path / "model.py"
    path.write_text(source)
    with pytest.raises(InvalidInput):
        get_flavor("python").validate(path, settings_for(tmp_path))


def test_python_model_module_must_stay_inside_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text("class M:\n    def predict(self, X):\n        return X\n")
    with pytest.raises(InvalidInput, match="not a Python module name"):
        get_flavor("python").load(path, settings_for(tmp_path), {"module": "../evil"})


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (logistic(), "sklearn"),
        (xgb_model()[0], "xgboost"),
        (lgbm_model()[0], "lightgbm"),
        (onnx_model()[0], "onnx"),
    ],
)
def test_flavor_for_picks_the_native_safe_format(model: Any, expected: str) -> None:
    assert flavor_for(model).name == expected


def test_no_built_in_flavor_silently_pickles_an_arbitrary_object() -> None:
    with pytest.raises(InvalidInput, match="no flavor can save"):
        flavor_for(object())


def test_skops_zip_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"{}")
        archive.writestr("0.npy", b"\0" * (200 << 20))
    with pytest.raises(InvalidInput, match="zip bomb"):
        get_flavor("sklearn").validate(path, settings_for(tmp_path))


AUDITED_MODELS: dict[str, Callable[[], Any]] = {
    "logistic": logistic,
    "forest": lambda: RandomForestClassifier(n_estimators=3, random_state=0).fit(X_TRAIN, Y_TRAIN),
    "custom step": lambda: Pipeline([("step", Doubler()), ("model", logistic())]).fit(
        X_TRAIN, Y_TRAIN
    ),
    "user function": lambda: Pipeline(
        [("step", FunctionTransformer(_double)), ("model", LogisticRegression())]
    ).fit(X_TRAIN, Y_TRAIN),
    "object array": lambda: LogisticRegression().fit(
        X_TRAIN, np.where(Y_TRAIN == 1, "yes", "no").astype(object)
    ),
}


@pytest.mark.parametrize("name", sorted(AUDITED_MODELS))
def test_skops_audit_lists_exactly_the_types_skops_itself_reports(
    name: str, tmp_path: Path
) -> None:
    import skops.io as sio

    flavor = get_flavor("sklearn")
    path = saved(flavor, AUDITED_MODELS[name](), tmp_path)
    trusting = settings_for(
        tmp_path, STEWARD_TRUSTED_TYPES=f"{__name__}._double,{__name__}.Doubler"
    )
    assert flavor.validate(path, trusting)["untrusted_types"] == sio.get_untrusted_types(file=path)


def test_skops_file_naming_an_array_it_does_not_hold_is_refused(tmp_path: Path) -> None:
    flavor = get_flavor("sklearn")
    path = saved(flavor, logistic(), tmp_path)
    broken = tmp_path / "broken.skops"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        dropped = next(name for name in source.namelist() if name.endswith(".npy"))
        for info in source.infolist():
            if info.filename != dropped:
                target.writestr(info, source.read(info))
    with pytest.raises(InvalidInput, match="not a readable skops file"):
        flavor.validate(broken, settings_for(tmp_path))
