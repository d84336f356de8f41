"""ONNX graphs (``model.onnx``), run with onnxruntime.

The default flavor for an in-memory ``onnx.ModelProto``, and the portable choice for
models converted from other frameworks. An ONNX file is a graph of standard operators,
not code, so it needs no trust decision (``needs_trust`` is False). Validation uses the
``onnx`` checker when installed, else builds an onnxruntime session; weights stored in
external files must sit next to the model.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput, StewardError, Unavailable

FILE_NAME = "model.onnx"

_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


def _session(path: Path) -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise Unavailable(
            "the onnx flavor needs onnxruntime: pip install 'modelsteward[onnx]'"
        ) from exc
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only; warnings are not the caller's concern
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


class OnnxModel:
    """An onnxruntime session with an sklearn-style ``predict`` on its first input."""

    def __init__(self, session: Any) -> None:
        self.session = session
        first = session.get_inputs()[0]
        self.input_name: str = first.name
        self.input_type = _NUMPY_TYPES.get(first.type, np.float32)

    def predict(self, X: Any) -> Any:
        values = X.to_numpy() if hasattr(X, "to_numpy") else X
        feed: Any = np.asarray(values, dtype=self.input_type)
        return self.session.run(None, {self.input_name: feed})[0]


def _check_with_onnx(path: Path) -> dict[str, Any]:
    import onnx
    from onnx.external_data_helper import uses_external_data

    model = onnx.load(str(path), load_external_data=False)
    root = path.parent.resolve()
    for tensor in model.graph.initializer:
        if uses_external_data(tensor):
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if not (root / location).resolve().is_relative_to(root):
                raise InvalidInput(f"{path.name} points at weights outside its folder")
    onnx.checker.check_model(str(path))
    return {
        "ir_version": model.ir_version,
        "opsets": {op.domain or "ai.onnx": op.version for op in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "inputs": [i.name for i in model.graph.input],
        "outputs": [o.name for o in model.graph.output],
    }


class OnnxFlavor:
    name = "onnx"
    description = "ONNX graphs, run with onnxruntime"
    needs_trust = False
    self_contained = False  # external weights are files beside the main one

    def can_save(self, model: object) -> bool:
        if "onnx" not in sys.modules:
            return False
        import onnx

        return isinstance(model, onnx.ModelProto)

    def save(self, model: object, directory: Path) -> list[Path]:
        target = directory / FILE_NAME
        target.write_bytes(model.SerializeToString())  # type: ignore[attr-defined]
        return [target]

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        try:
            if importlib.util.find_spec("onnx") is not None:
                return _check_with_onnx(path)
            session = _session(path)
            return {
                "inputs": [i.name for i in session.get_inputs()],
                "outputs": [o.name for o in session.get_outputs()],
            }
        except StewardError:
            raise
        except Exception as exc:  # protobuf, checker and runtime errors alike
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InvalidInput(f"{path.name} is not a valid ONNX model: {first[:200]}") from exc

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        try:
            return OnnxModel(_session(path))
        except StewardError:
            raise
        except Exception as exc:
            raise InvalidInput(f"{path.name} could not be loaded by onnxruntime") from exc
