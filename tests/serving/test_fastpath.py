"""The numeric fast path accepts exactly what the general path accepts, with the same frame.

Anything it is unsure of goes to the general path, so a refused body gets the very same
error (type and words) either way.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelsteward.errors import StewardError
from modelsteward.serving.fastpath import compile_numeric, numeric_table
from modelsteward.serving.validation import (
    _records_frame,
    conform,
    frame_from_mlflow,
    frame_from_records,
    records_from_body,
)

SECRET = "SECRET-123"
NAMES = ["age", "income", "score"]
FLOATS: dict[str, Any] = {
    "columns": [{"name": n, "type": "float", "dtype": "float64"} for n in NAMES]
}
NULLABLE: dict[str, Any] = {
    "columns": [
        {"name": n, "type": "float", "dtype": "float64", "nullable": n == "income"} for n in NAMES
    ]
}
FLOAT32: dict[str, Any] = {
    "columns": [{"name": n, "type": "float", "dtype": "float32"} for n in NAMES]
}


def general(records: object, schema: dict[str, Any]) -> Any:
    """The path every body took before the fast path existed."""
    return conform(_records_frame(records), schema)


def row(**changes: Any) -> dict[str, Any]:
    return {"age": 41, "income": 2.5, "score": -0.125, **changes}


ACCEPTED = {
    "floats": [row(age=41.0)],
    "ints and floats": [row(), row(age=7, income=3, score=0)],
    "keys in another order": [{"score": 1.5, "age": 2.0, "income": 3.25}, row()],
    "a later record in another order": [row(), {"score": 1.5, "age": 2.0, "income": 3.25}],
    "large and tiny": [row(age=1e300, income=-5e-324, score=2**62)],
    "many rows": [row(age=float(i), score=i / 7) for i in range(500)],
}


@pytest.mark.parametrize("schema", [FLOATS, NULLABLE, FLOAT32], ids=["float64", "nullable", "f32"])
@pytest.mark.parametrize("records", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_the_fast_path_gives_the_frame_the_general_path_gives(
    schema: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    table = numeric_table(schema)
    assert table is not None
    fast = table.from_records(records)
    if schema is FLOAT32 and records is ACCEPTED["large and tiny"]:
        assert fast is None  # out of float32's range: the general path decides
        return
    assert fast is not None
    pd.testing.assert_frame_equal(fast, general(records, schema))
    pd.testing.assert_frame_equal(frame_from_records(records, schema), fast)


REFUSED = {
    "missing column": [{"age": 1.0, "income": 2.0}],
    "extra column": [row(city=SECRET)],
    "a later record with another column": [row(), {"age": 1.0, "income": 2.0, "city": 3.0}],
    "text value": [row(income=SECRET)],
    "number as text": [row(income="987654321")],
    "boolean": [row(score=True)],
    "null": [row(age=None)],
    "nested list": [row(age=[1.0])],
    "not an object": [row(), ["987654321", 1, 2]],
    "empty": [],
    "not a list": {"age": 1.0},
}


@pytest.mark.parametrize("schema", [FLOATS, NULLABLE], ids=["float64", "nullable"])
@pytest.mark.parametrize("records", REFUSED.values(), ids=REFUSED.keys())
def test_what_the_fast_path_refuses_gets_the_general_paths_answer(
    schema: dict[str, Any], records: Any
) -> None:
    table = numeric_table(schema)
    assert table is not None and table.from_records(records) is None
    try:
        expected: Any = general(records, schema)
    except StewardError as exc:
        with pytest.raises(type(exc)) as caught:
            frame_from_records(records, schema)
        assert str(caught.value) == str(exc)
        assert SECRET not in str(caught.value) and "987654321" not in str(caught.value)
        return
    pd.testing.assert_frame_equal(frame_from_records(records, schema), expected)  # nullable


def test_mlflow_split_and_records_bodies_take_the_fast_path_too() -> None:
    records = ACCEPTED["ints and floats"]
    split = {
        "dataframe_split": {"columns": NAMES, "data": [[r[n] for n in NAMES] for r in records]}
    }
    expected = general(records, FLOATS)
    for body in (split, {"dataframe_records": records}, {"instances": records}):
        pd.testing.assert_frame_equal(frame_from_mlflow(body, FLOATS), expected)
    table = numeric_table(FLOATS)
    assert (
        table is not None and table.from_rows(split["dataframe_split"]["data"], NAMES) is not None
    )


def test_only_schemas_of_plain_floats_of_one_dtype_take_the_fast_path() -> None:
    assert compile_numeric(FLOATS) is not None
    assert compile_numeric({"columns": []}) is None
    assert compile_numeric(None) is None
    mixed = {"columns": [*FLOATS["columns"], {"name": "n", "type": "integer", "dtype": "int64"}]}
    assert compile_numeric(mixed) is None
    widths = {"columns": [*FLOATS["columns"], {"name": "x", "type": "float", "dtype": "float32"}]}
    assert compile_numeric(widths) is None


def test_a_body_is_logged_as_sent_only_when_it_is_exactly_the_validated_rows() -> None:
    def logged(records: list[dict[str, Any]], raw: bytes | None = None) -> bytes | None:
        validated = records_from_body(records, FLOATS, raw or json.dumps(records).encode())
        return validated.logged_json

    floats = [{"age": 41.0, "income": 2.5, "score": -0.125}]
    text = json.dumps(floats).encode()
    assert logged(floats, text) is text  # the body itself: not decoded, not copied
    assert logged([row()]) is None  # an integer would be logged as 41, not 41.0
    shuffled = [{"score": -0.125, "age": 41.0, "income": 2.5}]  # an object has no order
    assert json.loads(logged(shuffled) or "") == shuffled
    for twice in (
        b'[{"age": 1.0, "age": 41.0, "income": 2.5, "score": -0.125}]',
        b'[{"age": 1.0, "age" : 41.0, "income": 2.5, "score": -0.125}]',
    ):
        assert logged(json.loads(twice), twice) is None  # the log must show what the model saw
    assert logged(floats, json.dumps(floats).encode("utf-16")) is None
    assert logged(floats, b"\xef\xbb\xbf" + text) is None  # a byte-order mark
    assert logged(floats, text.replace(b" 2.5", "\u00a02.5".encode())) is None  # not ASCII
    nulls = [{"age": 41.0, "income": None, "score": -0.125}]  # the general path's NaN
    assert records_from_body(nulls, NULLABLE, json.dumps(nulls).encode()).logged_json is None


def test_a_fast_path_frame_is_a_float_frame_the_model_can_read() -> None:
    table = numeric_table(FLOAT32)
    assert table is not None
    frame = table.from_records([row()])
    assert frame is not None and list(frame.columns) == NAMES
    assert set(frame.dtypes) == {np.dtype("float32")}
    assert frame.to_numpy().flags.c_contiguous
