"""Open Inference Protocol (V2) requests decode onto a version's schema; responses encode back."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelsteward.errors import BadRequest, InvalidInput, StewardError
from modelsteward.serving.v2 import decode_request, encode_response
from modelsteward.serving.v2_tensors import model_metadata

SECRET = "SECRET-123"
TABLE: dict[str, Any] = {
    "columns": [
        {"name": "age", "type": "integer", "dtype": "int64"},
        {"name": "income", "type": "float", "dtype": "float64"},
        {"name": "member", "type": "boolean"},
        {"name": "city", "type": "string"},
    ]
}
NUMBERS: dict[str, Any] = {
    "columns": [{"name": "a", "type": "float"}, {"name": "b", "type": "integer"}]
}
TENSOR: dict[str, Any] = {
    "columns": [{"name": "pixels", "type": "tensor", "dtype": "float32", "shape": [-1, 2, 2]}]
}
EXPECTED = pd.DataFrame(
    {
        "age": np.array([31, 40], dtype="int64"),
        "income": [2.5, 3.0],
        "member": [True, False],
        "city": pd.Series(["Oslo", "Lima"], dtype=object),
    }
)


def tensor(name: str, shape: list[int], datatype: str, data: list[Any]) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def per_column(**changes: dict[str, Any]) -> dict[str, Any]:
    inputs = {
        "age": tensor("age", [2], "INT64", [31, 40]),
        "income": tensor("income", [2, 1], "FP64", [[2.5], [3.0]]),
        "member": tensor("member", [2], "BOOL", [True, False]),
        "city": tensor("city", [2], "BYTES", ["Oslo", "Lima"]),
    }
    inputs.update(changes)
    return {"inputs": [i for i in inputs.values() if i]}


def refused(error: type[StewardError], body: object, schema: Any, *names: str) -> str:
    """Decoding ``body`` raises ``error`` naming ``names`` and echoing no submitted value."""
    with pytest.raises(error) as caught:
        decode_request(body, schema)
    message = str(caught.value)
    assert type(caught.value) is error
    for name in names:
        assert name in message
    assert SECRET not in message and "987654321" not in message
    return message


def test_one_input_per_column_becomes_the_schema_frame() -> None:
    body = {**per_column(), "id": "req-1", "parameters": {"content_type": "pd"}}
    body["outputs"] = [{"name": "predict"}]
    decoded = decode_request(body, TABLE)
    pd.testing.assert_frame_equal(decoded.inputs, EXPECTED)
    assert decoded.request_id == "req-1"
    assert decoded.parameters == {"content_type": "pd"}
    assert decoded.requested_outputs == ["predict"]


def test_inputs_may_come_in_any_order() -> None:
    body = per_column()
    body["inputs"].reverse()
    pd.testing.assert_frame_equal(decode_request(body, TABLE).inputs, EXPECTED)


def test_single_two_d_input_fills_columns_in_schema_order() -> None:
    body = {"inputs": [tensor("input-0", [2, 2], "FP64", [[1.5, 2], [3.5, 4]])]}
    frame = decode_request(body, NUMBERS).inputs
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("list") == {"a": [1.5, 3.5], "b": [2, 4]}
    assert frame["b"].dtype == np.int64


def test_flat_data_is_reshaped_row_major() -> None:
    body = {"inputs": [tensor("x", [2, 2], "FP32", [1, 2, 3, 4])]}
    frame = decode_request(body, NUMBERS).inputs
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("list") == {"a": [1, 3], "b": [2, 4]}


def test_tensor_schema_gets_an_array_of_its_dtype_and_shape() -> None:
    data = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    array = decode_request({"inputs": [tensor("any", [2, 2, 2], "FP64", data)]}, TENSOR).inputs
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    np.testing.assert_array_equal(array, np.arange(1, 9, dtype=np.float32).reshape(2, 2, 2))


def test_without_schema_one_input_is_an_array_and_several_are_a_frame() -> None:
    single = decode_request({"inputs": [tensor("x", [1, 3], "INT32", [1, 2, 3])]}, None)
    assert isinstance(single.inputs, np.ndarray) and single.inputs.dtype == np.int32
    assert single.inputs.shape == (1, 3) and single.request_id is None
    body = {"inputs": [tensor("x", [2], "INT64", [1, 2]), tensor("y", [2], "BYTES", ["a", "b"])]}
    several = decode_request(body, None).inputs
    assert isinstance(several, pd.DataFrame)
    assert several.to_dict("list") == {"x": [1, 2], "y": ["a", "b"]}


def test_count_of_values_must_match_shape() -> None:
    body = {"inputs": [tensor("x", [2, 3], "FP32", [987654321] * 5)]}
    message = refused(BadRequest, body, None, "'x'")
    assert "shape [2,3] needs 6 values, got 5" in message


@pytest.mark.parametrize(
    ("item", "name"),
    [
        (tensor("x", [-1, 2], "FP32", [987654321, 2]), "x"),
        (tensor("x", [2], SECRET, [1, 2]), "x"),
        (tensor("x", [2], "FP32", [1, SECRET]), "x"),
        (tensor("x", [2], "INT64", [1, 2.5]), "x"),
        (tensor("x", [2], "INT8", [1, 987654321]), "x"),
        (tensor("x", [2], "FP16", [1, 987654321.0]), "x"),
        (tensor("x", [2], "BOOL", [1, 0]), "x"),
        (tensor("x", [2], "BYTES", [SECRET, 987654321]), "x"),
        (tensor("x", [2, 2], "FP32", [[1, 2], [987654321]]), "x"),
        ({**tensor("x", [2], "FP32", []), "parameters": {"binary_data_size": 8}}, "x"),
        ({"name": "x", "shape": "2", "datatype": "FP32", "data": [1, 2]}, "x"),
        ({"name": "x", "shape": [1], "datatype": "FP32", "data": SECRET}, "x"),
        ({"shape": [1], "datatype": "FP32", "data": [1]}, "input 0"),
    ],
    ids=[
        "negative_dimension",
        "unknown_datatype",
        "text_in_fp32",
        "fraction_in_int64",
        "int8_out_of_range",
        "fp16_overflow",
        "ints_as_bool",
        "number_in_bytes",
        "ragged",
        "binary_extension",
        "shape_not_a_list",
        "data_not_a_list",
        "no_name",
    ],
)
def test_malformed_inputs_are_bad_requests_naming_the_input(
    item: dict[str, Any], name: str
) -> None:
    refused(BadRequest, {"inputs": [item]}, None, name)


@pytest.mark.parametrize(
    "body",
    [[SECRET], {"inputs": []}, {"inputs": SECRET}, {"inputs": [1], "id": 987654321}],
)
def test_malformed_bodies_are_bad_requests(body: object) -> None:
    refused(BadRequest, body, TABLE)


def test_duplicate_input_names_are_refused() -> None:
    body = {"inputs": [tensor("age", [1], "INT64", [1]), tensor("age", [1], "INT64", [2])]}
    refused(BadRequest, body, TABLE)


def test_missing_column_is_invalid_input_naming_it() -> None:
    refused(InvalidInput, per_column(city={}), TABLE, "city", "missing")


def test_extra_input_is_refused_not_dropped() -> None:
    extra = tensor("nickname", [2], "BYTES", [SECRET, SECRET])
    refused(InvalidInput, per_column(nickname=extra), TABLE, "nickname", "unexpected")


def test_wrong_type_for_schema_column_is_invalid_input() -> None:
    wrong = tensor("age", [2], "BYTES", [SECRET, "40"])
    message = refused(InvalidInput, per_column(age=wrong), TABLE, "age")
    assert "row 0" in message


def test_fraction_in_integer_column_is_invalid_input() -> None:
    wrong = tensor("age", [2], "FP64", [31.0, 987654321.5])
    refused(InvalidInput, per_column(age=wrong), TABLE, "age", "row 1")


def test_columns_of_different_lengths_are_refused() -> None:
    refused(BadRequest, per_column(age=tensor("age", [1], "INT64", [987654321])), TABLE)


def test_two_d_input_with_wrong_width_names_expected_columns() -> None:
    body = {"inputs": [tensor("x", [1, 3], "FP64", [1, 2, 987654321])]}
    message = refused(BadRequest, body, NUMBERS, "'x'", "'a'", "'b'")
    assert "3 columns" in message


def test_tensor_shape_mismatch_names_expected_and_received() -> None:
    body = {"inputs": [tensor("pixels", [1, 4], "FP32", [1, 2, 3, 987654321])]}
    message = refused(BadRequest, body, TENSOR, "pixels")
    assert "[-1, 2, 2]" in message and "[1, 4]" in message


def test_tensor_model_takes_one_input() -> None:
    body = {"inputs": [tensor("a", [1], "FP32", [1]), tensor("b", [1], "FP32", [2])]}
    refused(BadRequest, body, TENSOR)


def test_too_many_rows_are_refused() -> None:
    body = {"inputs": [tensor("a", [1_000_001], "FP64", [987654321.0] * 1_000_001)]}
    message = refused(BadRequest, body, {"columns": [{"name": "a", "type": "float"}]})
    assert "1,000,000" in message


@pytest.mark.parametrize(
    ("values", "datatype", "data"),
    [
        (np.array([1, 2], dtype=np.int64), "INT64", [1, 2]),
        (np.array([1, 2], dtype=np.int32), "INT32", [1, 2]),
        (np.array([1, 2], dtype=np.uint8), "UINT8", [1, 2]),
        (np.array([0.5, 2.0]), "FP64", [0.5, 2.0]),
        (np.array([0.5, 2.0], dtype=np.float32), "FP32", [0.5, 2.0]),
        (np.array([0.5, 2.0], dtype=np.float16), "FP16", [0.5, 2.0]),
        (np.array([True, False]), "BOOL", [True, False]),
        (np.array(["yes", "no"]), "BYTES", ["yes", "no"]),
        (np.array([b"yes", b"no"], dtype=object), "BYTES", ["yes", "no"]),
        ([1, 2], "INT64", [1, 2]),
        ([0.5, 2], "FP64", [0.5, 2.0]),
        (pd.Series(["a", "b"], dtype="category"), "BYTES", ["a", "b"]),
        (pd.Series([1, 2], dtype="Int64"), "INT64", [1, 2]),
        (np.array(["2024-01-01"], dtype="datetime64[s]"), "BYTES", ["2024-01-01T00:00:00"]),
    ],
)
def test_predictions_get_the_matching_v2_datatype(
    values: Any, datatype: str, data: list[Any]
) -> None:
    response = encode_response("churn", "3", "req-1", values)
    (output,) = response["outputs"]
    assert output == {"name": "predict", "datatype": datatype, "shape": [len(data)], "data": data}
    assert response["model_name"] == "churn" and response["model_version"] == "3"
    assert response["id"] == "req-1"
    json.dumps(response, allow_nan=False)


def test_two_d_predictions_keep_their_shape_with_flat_data() -> None:
    output = encode_response("m", "1", "r", np.array([[0.1, 0.9], [0.8, 0.2]]))["outputs"][0]
    assert output["shape"] == [2, 2] and output["data"] == [0.1, 0.9, 0.8, 0.2]


def test_a_frame_gives_one_output_per_column() -> None:
    frame = pd.DataFrame({"label": ["churn", "stay"], "score": [0.9, 0.1]})
    outputs = encode_response("m", "1", "r", frame)["outputs"]
    assert [(o["name"], o["datatype"], o["data"]) for o in outputs] == [
        ("label", "BYTES", ["churn", "stay"]),
        ("score", "FP64", [0.9, 0.1]),
    ]


def test_a_named_series_gives_its_name_and_requested_outputs_are_kept() -> None:
    series = pd.Series([1, 0], name="label")
    assert encode_response("m", "1", "r", series)["outputs"][0]["name"] == "label"
    frame = pd.DataFrame({"label": [1], "score": [0.5]})
    kept = encode_response("m", "1", "r", frame, requested=["score"])["outputs"]
    assert [o["name"] for o in kept] == ["score"]
    with pytest.raises(BadRequest, match="'nope'"):
        encode_response("m", "1", "r", frame, requested=["nope"])


def test_response_without_request_id_has_no_id() -> None:
    assert "id" not in encode_response("m", "1", None, [1])


def test_model_metadata_describes_tabular_and_tensor_schemas() -> None:
    output_schema = {
        "columns": [{"name": "probs", "type": "tensor", "dtype": "float32", "shape": [-1, 3]}]
    }
    metadata = model_metadata("churn", ["1", "2"], TABLE, output_schema, "sklearn")
    assert metadata == {
        "name": "churn",
        "versions": ["1", "2"],
        "platform": "sklearn",
        "inputs": [
            {"name": "age", "datatype": "INT64", "shape": [-1]},
            {"name": "income", "datatype": "FP64", "shape": [-1]},
            {"name": "member", "datatype": "BOOL", "shape": [-1]},
            {"name": "city", "datatype": "BYTES", "shape": [-1]},
        ],
        "outputs": [{"name": "probs", "datatype": "FP32", "shape": [-1, 3]}],
    }
    assert model_metadata("m", [], None, None, "python")["inputs"] == []
