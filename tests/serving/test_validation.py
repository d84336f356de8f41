"""Scoring payloads become the frame a version expects, or a clear error that leaks no data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelsteward.errors import BadRequest, InvalidInput, StewardError
from modelsteward.registry.schema_inference import infer_schema
from modelsteward.serving.validation import (
    MAX_ROWS,
    conform,
    frame_from_mlflow,
    frame_from_records,
)

SECRET = "SECRET-123"
SCHEMA: dict[str, Any] = {
    "columns": [
        {"name": "age", "type": "integer", "dtype": "int64"},
        {"name": "income", "type": "float", "dtype": "float64", "nullable": True},
        {"name": "member", "type": "boolean"},
        {"name": "city", "type": "string"},
        {"name": "plan", "type": "category", "dtype": "category"},
        {"name": "seen", "type": "datetime", "dtype": "datetime64[ns]"},
    ]
}
TENSOR: dict[str, Any] = {
    "columns": [{"name": "pixels", "type": "tensor", "dtype": "float32", "shape": [-1, 2]}]
}
RECORDS: list[dict[str, Any]] = [
    {
        "seen": "2024-05-01T10:00:00Z",
        "age": 31,
        "income": 2.5,
        "member": True,
        "city": "Oslo",
        "plan": "gold",
    },
    {
        "seen": "2024-05-02",
        "age": 40.0,
        "income": None,
        "member": False,
        "city": "Lima",
        "plan": "free",
    },
]
EXPECTED = pd.DataFrame(
    {
        "age": np.array([31, 40], dtype="int64"),
        "income": [2.5, np.nan],
        "member": [True, False],
        "city": pd.Series(["Oslo", "Lima"], dtype=object),
        "plan": pd.Categorical(["gold", "free"]),
        "seen": pd.to_datetime(["2024-05-01T10:00:00", "2024-05-02T00:00:00"]).astype(
            "datetime64[ns]"
        ),
    }
)
ORDER = list(RECORDS[0])


def refused(error: type[StewardError], call: Any, *args: Any, names: tuple[str, ...] = ()) -> str:
    """Run ``call``, expect ``error`` naming ``names`` and never echoing submitted values."""
    with pytest.raises(error) as caught:
        call(*args)
    message = str(caught.value)
    assert type(caught.value) is error
    for name in names:
        assert name in message
    assert SECRET not in message and "987654321" not in message
    return message


def with_row(**changes: Any) -> list[dict[str, Any]]:
    return [{**RECORDS[0], **changes}, RECORDS[1]]


def test_records_are_coerced_to_schema_types_and_order() -> None:
    frame = frame_from_records(RECORDS, SCHEMA)
    pd.testing.assert_frame_equal(frame, EXPECTED)
    assert list(frame.columns) == [c["name"] for c in SCHEMA["columns"]]


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ORDER, "data": [[r[c] for c in ORDER] for r in RECORDS]}},
        {"dataframe_records": RECORDS},
        {"instances": RECORDS},
        {"inputs": {c: [r[c] for r in RECORDS] for c in ORDER}},
        {"dataframe_records": RECORDS, "params": {"threshold": 0.5}},
    ],
    ids=["dataframe_split", "dataframe_records", "instances", "inputs", "with_params"],
)
def test_each_mlflow_body_gives_the_same_frame(body: dict[str, Any]) -> None:
    pd.testing.assert_frame_equal(frame_from_mlflow(body, SCHEMA), EXPECTED)


def test_positional_rows_follow_schema_order() -> None:
    schema = {"columns": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]}
    frame = frame_from_mlflow({"instances": [[1, "x"], [2, "y"]]}, schema)
    assert isinstance(frame, pd.DataFrame)
    assert frame.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    split = frame_from_mlflow({"dataframe_split": {"data": [[1, "x"]]}}, schema)
    assert isinstance(split, pd.DataFrame)
    assert split.to_dict("list") == {"a": [1], "b": ["x"]}


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [[1, 2], [3, 4.5]]},
        {"inputs": [[1, 2], [3, 4.5]]},
        {"inputs": {"pixels": [[1, 2], [3, 4.5]]}},
        {"dataframe_split": {"data": [[1, 2], [3, 4.5]]}},
    ],
)
def test_tensor_bodies_give_an_array_of_the_schema_dtype(body: dict[str, Any]) -> None:
    array = frame_from_mlflow(body, TENSOR)
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    np.testing.assert_array_equal(array, np.array([[1, 2], [3, 4.5]], dtype=np.float32))


def test_without_a_schema_payloads_are_accepted_as_sent() -> None:
    frame = frame_from_records([{"x": 1, "y": "a"}], None)
    assert frame.to_dict("list") == {"x": [1], "y": ["a"]}
    array = frame_from_mlflow({"instances": [[1, 2]]}, None)
    assert isinstance(array, np.ndarray) and array.shape == (1, 2)


def test_schema_inferred_from_training_data_accepts_its_own_rows() -> None:
    sample = pd.DataFrame({"n": [1, 2], "x": [0.5, 1.5], "s": ["a", "b"], "b": [True, False]})
    frame = frame_from_records(sample.to_dict("records"), infer_schema(sample))
    pd.testing.assert_frame_equal(frame, sample)


def test_nullable_integer_column_keeps_integers() -> None:
    schema = {"columns": [{"name": "n", "type": "integer", "dtype": "int32", "nullable": True}]}
    frame = frame_from_records([{"n": 1}, {"n": None}], schema)
    assert str(frame["n"].dtype) == "Int32" and frame["n"].tolist()[0] == 1


def test_datetime_offsets_are_converted_to_utc() -> None:
    schema = {"columns": [{"name": "t", "type": "datetime", "dtype": "datetime64[ns, UTC]"}]}
    frame = frame_from_records([{"t": "2024-01-01T12:00:00+02:00"}], schema)
    assert frame["t"][0] == pd.Timestamp("2024-01-01T10:00:00Z")


def test_missing_column_is_named() -> None:
    rows = [{k: v for k, v in r.items() if k != "city"} for r in RECORDS]
    message = refused(InvalidInput, frame_from_records, rows, SCHEMA, names=("city",))
    assert "missing" in message


def test_extra_column_is_refused_not_dropped() -> None:
    message = refused(
        InvalidInput, frame_from_records, with_row(nickname=SECRET), SCHEMA, names=("nickname",)
    )
    assert "unexpected" in message


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("age", SECRET),
        ("age", 987654321.5),
        ("age", True),
        ("age", 987654321 * 10**20),
        ("income", SECRET),
        ("member", SECRET),
        ("member", 1),
        ("city", 987654321),
        ("plan", 987654321),
        ("seen", SECRET),
        ("seen", 987654321),
    ],
)
def test_wrong_type_names_column_and_row_but_not_value(column: str, value: object) -> None:
    message = refused(
        InvalidInput, frame_from_records, with_row(**{column: value}), SCHEMA, names=(column,)
    )
    assert "row 0" in message


def test_null_in_non_nullable_column_names_column_and_first_bad_row() -> None:
    rows = [RECORDS[0], {**RECORDS[1], "city": None}, {**RECORDS[1], "city": None}]
    message = refused(InvalidInput, frame_from_records, rows, SCHEMA, names=("city",))
    assert "row 1" in message and "nullable" in message


def test_null_is_accepted_where_nullable() -> None:
    assert frame_from_records(RECORDS, SCHEMA)["income"].isna().tolist() == [False, True]


def test_tensor_shape_mismatch_names_expected_and_received_shapes() -> None:
    message = refused(
        BadRequest, frame_from_mlflow, {"instances": [[1, 2, 3]]}, TENSOR, names=("pixels",)
    )
    assert "[-1, 2]" in message and "[1, 3]" in message


def test_tensor_with_text_is_refused_without_echo() -> None:
    refused(
        InvalidInput, frame_from_mlflow, {"instances": [[1, SECRET]]}, TENSOR, names=("pixels",)
    )


def test_tensor_null_is_refused_unless_nullable() -> None:
    refused(InvalidInput, frame_from_mlflow, {"inputs": [[1, None]]}, TENSOR, names=("pixels",))


def test_ragged_tensor_rows_are_refused() -> None:
    refused(BadRequest, frame_from_mlflow, {"instances": [[1, 2], [987654321]]}, TENSOR)


def test_too_many_rows_are_refused_before_building_a_frame() -> None:
    rows = [{"age": 987654321}] * (MAX_ROWS + 1)
    message = refused(BadRequest, frame_from_records, rows, SCHEMA)
    assert "1,000,000" in message


def test_too_many_columns_are_refused() -> None:
    row = {f"c{i}": 987654321 for i in range(10_001)}
    refused(BadRequest, frame_from_records, [row], None)


@pytest.mark.parametrize(
    "body",
    [
        [SECRET],
        {"dataframe_records": RECORDS, "instances": RECORDS},
        {"unknown": SECRET},
        {"dataframe_split": {"columns": ["age"], "data": [[1, SECRET]]}},
        {"dataframe_records": [SECRET]},
        {"inputs": {"age": [1, 2], "city": [SECRET]}},
    ],
)
def test_malformed_mlflow_bodies_are_bad_requests(body: object) -> None:
    refused(BadRequest, frame_from_mlflow, body, SCHEMA)


def test_conform_reorders_a_frame_and_leaves_the_input_alone() -> None:
    schema = {"columns": [{"name": "a", "type": "float"}, {"name": "b", "type": "float"}]}
    frame = pd.DataFrame({"b": [1, 2], "a": [3, 4]})
    result = conform(frame, schema)
    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == ["a", "b"] and result["a"].dtype == np.float64
    assert list(frame.columns) == ["b", "a"] and frame["a"].dtype == np.int64
