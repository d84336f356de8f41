"""NVIDIA's tritonclient speaks to us unchanged: its request bodies decode, our responses parse."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelsteward.errors import BadRequest
from modelsteward.serving.v2 import decode_request, encode_response
from modelsteward.serving.v2_binary import split_body

httpclient = pytest.importorskip("tritonclient.http")

TENSOR: dict[str, Any] = {
    "columns": [{"name": "pixels", "type": "tensor", "dtype": "float32", "shape": [-1, 2, 2]}]
}
TABLE: dict[str, Any] = {
    "columns": [
        {"name": "age", "type": "integer", "dtype": "int64"},
        {"name": "city", "type": "string"},
    ]
}


def json_input(name: str, array: np.ndarray, datatype: str) -> Any:
    infer_input = httpclient.InferInput(name, list(array.shape), datatype)
    return infer_input.set_data_from_numpy(array, binary_data=False)


def request_body(inputs: list[Any], outputs: list[str], request_id: str = "") -> dict[str, Any]:
    """The JSON body tritonclient would POST to ``/v2/models/{name}/infer``."""
    requested = [httpclient.InferRequestedOutput(name, binary_data=False) for name in outputs]
    body, header_length = httpclient.InferenceServerClient.generate_request_body(
        inputs, outputs=requested, request_id=request_id
    )
    assert header_length is None  # all JSON, no binary tail
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def parse_response(response: dict[str, Any]) -> Any:
    return httpclient.InferResult.from_response_body(json.dumps(response).encode())


def test_tensor_request_from_tritonclient_decodes_to_the_schema_dtype() -> None:
    pixels = np.arange(8, dtype=np.float32).reshape(2, 2, 2) / 4
    body = request_body([json_input("pixels", pixels, "FP32")], ["predict"], request_id="req-7")
    decoded = decode_request(body, TENSOR)
    assert isinstance(decoded.inputs, np.ndarray) and decoded.inputs.dtype == np.float32
    np.testing.assert_array_equal(decoded.inputs, pixels)
    assert decoded.request_id == "req-7"
    assert decoded.requested_outputs == ["predict"]


def test_per_column_request_from_tritonclient_decodes_to_a_frame() -> None:
    ages = np.array([[31], [40]], dtype=np.int64)
    cities = np.array([b"Oslo", "Lima"], dtype=np.object_)
    inputs = [json_input("age", ages, "INT64"), json_input("city", cities, "BYTES")]
    decoded = decode_request(request_body(inputs, ["label"]), TABLE)
    assert isinstance(decoded.inputs, pd.DataFrame)
    assert decoded.inputs.to_dict("list") == {"age": [31, 40], "city": ["Oslo", "Lima"]}


def test_binary_tensor_data_from_tritonclient_decodes() -> None:
    pixels = np.arange(8, dtype=np.float32).reshape(2, 2, 2) / 8
    infer_input = httpclient.InferInput("pixels", [2, 2, 2], "FP32")
    infer_input.set_data_from_numpy(pixels)  # binary by default
    body, header_length = httpclient.InferenceServerClient.generate_request_body([infer_input])
    header, binary = split_body(body, str(header_length))
    decoded = decode_request(json.loads(header), TENSOR, binary)
    np.testing.assert_array_equal(decoded.inputs, pixels)


def test_binary_tensor_data_without_its_binary_part_is_refused_naming_the_header() -> None:
    infer_input = httpclient.InferInput("pixels", [1, 2, 2], "FP32")
    infer_input.set_data_from_numpy(np.zeros((1, 2, 2), dtype=np.float32))  # binary by default
    body, header_length = httpclient.InferenceServerClient.generate_request_body([infer_input])
    with pytest.raises(BadRequest, match="binary data .* Inference-Header-Content-Length"):
        decode_request(json.loads(body[:header_length]), TENSOR)


@pytest.mark.parametrize(
    "predictions",
    [
        np.array([[0.25, 0.75], [0.5, 0.5]]),
        np.array([[0.25, 0.75]], dtype=np.float32),
        np.array([1, 0, 1], dtype=np.int64),
        np.array([True, False]),
    ],
    ids=["fp64", "fp32", "int64", "bool"],
)
def test_tritonclient_reads_our_response_back_as_numpy(predictions: np.ndarray) -> None:
    result = parse_response(encode_response("churn", "3", "req-7", predictions))
    returned = result.as_numpy("predict")
    assert returned.dtype == predictions.dtype
    np.testing.assert_array_equal(returned, predictions)
    assert result.get_response()["id"] == "req-7"
    assert result.get_response()["model_version"] == "3"


def test_tritonclient_reads_one_output_per_frame_column() -> None:
    frame = pd.DataFrame({"label": ["churn", "stay"], "score": [0.9, 0.1]})
    result = parse_response(encode_response("churn", "3", "req-7", frame))
    assert result.as_numpy("label").tolist() == ["churn", "stay"]
    np.testing.assert_array_equal(result.as_numpy("score"), np.array([0.9, 0.1]))
