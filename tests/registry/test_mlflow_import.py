"""Importing MLflow model folders, written by hand the way MLflow 2.x/3.x writes them."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io
import yaml
from sklearn.linear_model import LogisticRegression

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput
from modelsteward.registry.flavors.base import get_flavor
from modelsteward.registry.mlflow_import import read_mlflow_model

X_TRAIN = np.random.default_rng(1).normal(size=(50, 4))
Y_TRAIN = (X_TRAIN[:, 0] > 0).astype(int)
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
INPUTS = json.dumps([{"type": "double", "name": c, "required": True} for c in COLUMNS])
OUTPUTS = json.dumps([{"type": "long", "required": True}])
TENSOR_INPUTS = json.dumps(
    [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]
)
RUN_ID = "5c0f2d6b8e1a4c7f9a3b2d1e0f4a5b6c"

CONDA = """\
channels:
- conda-forge
dependencies:
- python=3.11.9
- pip<=24.0
- pip:
  - mlflow==2.12.1
  - scikit-learn==1.5.2
name: mlflow-env
"""
PYTHON_ENV = """\
python: 3.11.9
build_dependencies:
- pip==24.0
- setuptools==69.5.1
- wheel==0.43.0
dependencies:
- -r requirements.txt
"""
REQUIREMENTS = "mlflow==2.12.1\nscikit-learn==1.5.2\nskops==0.9.0\n# a comment\n"


def fitted() -> LogisticRegression:
    return LogisticRegression().fit(X_TRAIN, Y_TRAIN)


def mlmodel(flavors: dict[str, Any], inputs: str = INPUTS) -> dict[str, Any]:
    return {
        "artifact_path": "model",
        "flavors": flavors,
        "mlflow_version": "2.12.1",
        "model_size_bytes": 1234,
        "model_uuid": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        "run_id": RUN_ID,
        "signature": {"inputs": inputs, "outputs": OUTPUTS, "params": None},
        "utc_time_created": "2024-05-02 10:11:12.123456",
    }


def sklearn_flavors(model_file: str, serialization: str) -> dict[str, Any]:
    return {
        "python_function": {
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.sklearn",
            "model_path": model_file,
            "predict_fn": "predict",
            "python_version": "3.11.9",
        },
        "sklearn": {
            "code": None,
            "pickled_model": model_file,
            "serialization_format": serialization,
            "sklearn_version": "1.5.2",
        },
    }


def write_mlflow_dir(folder: Path, document: dict[str, Any], files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text(yaml.safe_dump(document, default_flow_style=False))
    (folder / "conda.yaml").write_text(CONDA)
    (folder / "python_env.yaml").write_text(PYTHON_ENV)
    (folder / "requirements.txt").write_text(REQUIREMENTS)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def skops_dir(folder: Path) -> Path:
    document = mlmodel(sklearn_flavors("model.skops", "skops"))
    return write_mlflow_dir(folder, document, {"model.skops": skops.io.dumps(fitted())})


def test_skops_sklearn_model_imports_as_the_safe_sklearn_flavor(tmp_path: Path) -> None:
    imported = read_mlflow_model(skops_dir(tmp_path / "model"))

    assert imported.flavor == "sklearn"
    assert not imported.needs_trust
    root = (tmp_path / "model").resolve()
    assert imported.files[0] == ("model", "model.skops", root / "model.skops")
    assert sorted(name for role, name, _ in imported.files if role == "extra") == [
        "MLmodel",
        "conda.yaml",
        "python_env.yaml",
        "requirements.txt",
    ]
    assert imported.input_schema == {
        "columns": [{"name": c, "type": "float", "dtype": "double"} for c in COLUMNS]
    }
    assert imported.output_schema == {
        "columns": [{"name": "0", "type": "integer", "dtype": "long"}]
    }
    assert imported.dependencies == {
        "python": "3.11.9",
        "packages": {"mlflow": "2.12.1", "scikit-learn": "1.5.2", "skops": "0.9.0"},
    }
    assert imported.metadata["mlflow"]["run_id"] == RUN_ID
    assert imported.metadata["mlflow"]["mlflow_version"] == "2.12.1"


def test_imported_skops_file_validates_and_predicts_like_the_original(tmp_path: Path) -> None:
    imported = read_mlflow_model(skops_dir(tmp_path / "model"))
    settings = Settings.from_env({"STEWARD_HOME": str(tmp_path / "home")})
    flavor, model_path = get_flavor(imported.flavor), imported.files[0][2]
    loaded = flavor.load(model_path, settings, flavor.validate(model_path, settings))
    np.testing.assert_array_equal(loaded.predict(X_TRAIN), fitted().predict(X_TRAIN))


@pytest.mark.parametrize("serialization", ["cloudpickle", "pickle"])
def test_pickled_sklearn_model_needs_trust(serialization: str, tmp_path: Path) -> None:
    document = mlmodel(sklearn_flavors("model.pkl", serialization))
    folder = write_mlflow_dir(tmp_path / "m", document, {"model.pkl": pickle.dumps(fitted())})
    imported = read_mlflow_model(folder)
    assert imported.flavor == "pickle"
    assert imported.needs_trust
    assert imported.files[0][:2] == ("model", "model.pkl")


def test_custom_pyfunc_model_is_a_pickle_with_a_tensor_schema(tmp_path: Path) -> None:
    flavors = {
        "python_function": {
            "cloudpickle_version": "3.0.0",
            "code": None,
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.pyfunc.model",
            "python_model": "python_model.pkl",
            "python_version": "3.11.9",
        }
    }
    files = {"python_model.pkl": pickle.dumps(fitted())}
    folder = write_mlflow_dir(tmp_path / "m", mlmodel(flavors, TENSOR_INPUTS), files)
    imported = read_mlflow_model(folder)
    assert (imported.flavor, imported.needs_trust) == ("pickle", True)
    assert imported.input_schema == {
        "columns": [{"name": "tensor", "type": "tensor", "dtype": "float64", "shape": [-1, 4]}]
    }


def test_pyfunc_only_sklearn_model_is_recognised_by_its_skops_content(tmp_path: Path) -> None:
    flavors = sklearn_flavors("model.skops", "skops")
    del flavors["sklearn"]
    files = {"model.skops": skops.io.dumps(fitted())}
    imported = read_mlflow_model(write_mlflow_dir(tmp_path / "m", mlmodel(flavors), files))
    assert (imported.flavor, imported.needs_trust) == ("sklearn", False)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("sklearn", "pickled_model", "../../etc/passwd"),
        ("sklearn", "pickled_model", "/etc/passwd"),
        ("python_function", "model_path", "../outside.skops"),
        ("python_function", "data", "..\\..\\secrets"),
        ("python_function", "code", "/usr/lib/python3"),
    ],
)
def test_paths_leaving_the_model_folder_are_refused(
    section: str, key: str, value: str, tmp_path: Path
) -> None:
    folder = skops_dir(tmp_path / "model")
    document = yaml.safe_load((folder / "MLmodel").read_text())
    document["flavors"][section][key] = value
    (folder / "MLmodel").write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInput, match="model folder"):
        read_mlflow_model(folder)


def test_model_file_that_is_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    outside = tmp_path / "outside.skops"
    outside.write_bytes((folder / "model.skops").read_bytes())
    (folder / "model.skops").unlink()
    os.symlink(outside, folder / "model.skops")
    with pytest.raises(InvalidInput, match="outside"):
        read_mlflow_model(folder)


def test_any_file_linking_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    (tmp_path / "secret.txt").write_text("credentials")
    os.symlink(tmp_path / "secret.txt", folder / "notes.txt")
    with pytest.raises(InvalidInput, match="outside"):
        read_mlflow_model(folder)


def test_directory_linking_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", folder / "artifacts")
    with pytest.raises(InvalidInput, match="outside"):
        read_mlflow_model(folder)


def test_missing_mlmodel_is_refused(tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    (folder / "MLmodel").unlink()
    with pytest.raises(InvalidInput, match="no MLmodel"):
        read_mlflow_model(folder)


@pytest.mark.parametrize(
    "content",
    [
        "- just\n- a list\n",
        "flavors: [sklearn]\n",
        "flavors: {sklearn: {\n",
        "!!python/object/apply:os.system ['touch pwned']\n",
    ],
)
def test_mlmodel_that_is_not_a_flavor_mapping_is_refused(content: str, tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    (folder / "MLmodel").write_text(content)
    with pytest.raises(InvalidInput, match="MLmodel"):
        read_mlflow_model(folder)


def test_unsupported_flavor_is_refused_with_the_flavors_it_has(tmp_path: Path) -> None:
    document = mlmodel({"pytorch": {"model_data": "data", "pytorch_version": "2.3.0"}})
    folder = write_mlflow_dir(tmp_path / "m", document, {})
    with pytest.raises(InvalidInput, match="pytorch"):
        read_mlflow_model(folder)


def test_mlmodel_expanding_aliases_is_refused_quickly(tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    laughs += [
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    (folder / "MLmodel").write_text("flavors:\n" + "\n".join("  " + line for line in laughs))
    with pytest.raises(InvalidInput, match="too large"):
        read_mlflow_model(folder)


def test_broken_link_inside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = skops_dir(tmp_path / "model")
    os.symlink(folder / "gone.txt", folder / "notes.txt")
    with pytest.raises(InvalidInput, match="not a regular file"):
        read_mlflow_model(folder)
