"""The log's JSON rows read back as the frames and arrays the model saw, however written."""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelsteward.serving.codec import dumps
from modelsteward.serving.fastpath import numeric_table
from modelsteward.serving.logrows import (
    INTERLEAVE_FROM_ROWS,
    WRAP_FROM_BYTES,
    Rows,
    encode,
    text_column,
)
from modelsteward.serving.scoring import MAX_LOGGED_CLASSES, ClassifierAnswer

NAMES = ["f0", "f 1", "ünï", 'quo"te']
SCHEMA = {"columns": [{"name": n, "type": "float", "dtype": "float64"} for n in NAMES]}


def block(rows: int) -> np.ndarray:
    values = np.random.default_rng(rows).normal(size=(rows, len(NAMES))) * 1e3
    values[0, :] = [2.0, -0.0, 1e16, 5e-324]  # whole, signed zero, exponents
    return values


@pytest.mark.parametrize("rows", [1, INTERLEAVE_FROM_ROWS - 1, INTERLEAVE_FROM_ROWS, 1000])
def test_float_frames_read_back_as_their_records_with_floats_kept_floats(rows: int) -> None:
    frame = pd.DataFrame(block(rows), columns=NAMES)
    table = numeric_table(SCHEMA)
    assert table is not None
    fast = table.wrap(block(rows))
    texts, counts = encode([Rows(frame), Rows(fast)])
    expected = frame.to_dict("records")
    for text in texts:
        parsed = json.loads(text)
        assert parsed == expected and counts == [rows, rows]
        assert all(isinstance(v, float) for record in parsed for v in record.values())
        assert list(parsed[0]) == NAMES


def test_float32_values_keep_the_digits_they_had_before() -> None:
    frame = pd.DataFrame({"x": np.array([0.1], dtype=np.float32)})
    (text,), _ = encode([Rows(frame)])
    assert json.loads(text) == frame.to_dict("records") == [{"x": float(np.float32(0.1))}]


def test_other_values_are_written_as_rows_and_nan_as_null() -> None:
    mixed = pd.DataFrame({"age": [40, 41], "city": ["Oslo", None], "x": [1.5, np.nan]})
    texts, counts = encode(
        [Rows(mixed), Rows(np.array([1, 0])), [{"a": 1}], Rows(pd.Series(["y", "n"]))]
    )
    assert json.loads(texts[0]) == [
        {"age": 40, "city": "Oslo", "x": 1.5},
        {"age": 41, "city": None, "x": None},
    ]
    assert texts[1:] == ["[1,0]", '[{"a":1}]', '["y","n"]'] and counts == [2, 2, 1, 2]


def test_text_at_hand_is_kept_as_it_is() -> None:
    frame = pd.DataFrame({"x": [1.5]})
    body = b'[{"x": 1.5}, {"x": 2.5}]'
    texts, counts = encode([Rows(frame, '[{"x": 1.5}]'), Rows(frame.loc[[0, 0]], body)])
    assert texts == ['[{"x": 1.5}]', body] and counts == [1, 2]


def test_texts_become_one_string_column_in_order_large_bodies_without_a_copy() -> None:
    large = b'[{"f0":' + b"1.5," * WRAP_FROM_BYTES + b"2.0}]"
    texts: list[str | bytes] = ["[1]", b"[2]", large, '["\u00fcn\u00ef"]', large, b"[3]"]
    column = text_column(texts)
    assert column.type == pa.string()
    assert column.to_pylist() == [t.decode() if isinstance(t, bytes) else t for t in texts]
    wrapped = [c for c in column.chunks if c.buffers()[2].size == len(large)]
    assert len(wrapped) == 2
    assert all(c.buffers()[2].address == pa.py_buffer(large).address for c in wrapped)
    assert text_column([]).to_pylist() == []


def test_rows_with_text_at_hand_let_the_frame_go_before_the_flush() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    gone = weakref.ref(frame)
    rows = Rows(frame, b"[...]")
    del frame
    gc.collect()
    assert gone() is None and rows.count == 1000


def answer(classes: list[object], rows: int, dtype: object = np.float64) -> ClassifierAnswer:
    rng = np.random.default_rng(rows)
    probabilities = rng.dirichlet(np.ones(len(classes)), size=rows).astype(dtype)
    probabilities[0, 0] = np.nan  # a model may answer NaN; JSON gets null
    predictions = np.array(classes, dtype=object if isinstance(classes[0], str) else None)
    return ClassifierAnswer(predictions.take(probabilities.argmax(axis=1)), probabilities, classes)


ANSWERS = {
    "binary, integer classes": ([0, 1], np.float64),
    "binary, boolean classes": ([False, True], np.float64),
    "multiclass, text classes": (["setosa", "versi,color", 'vir"ginica'], np.float64),
    "float32 probabilities": ([0, 1], np.float32),
    "float classes": ([0.5, 1.5, 2.5], np.float64),
    "too many classes to log their probabilities": (
        list(range(MAX_LOGGED_CLASSES + 1)),
        np.float64,
    ),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
@pytest.mark.parametrize("rows", [1, INTERLEAVE_FROM_ROWS, 1000])
def test_a_classifier_answer_is_logged_as_the_json_of_its_rows(case: str, rows: int) -> None:
    classes, dtype = ANSWERS[case]
    given = answer(classes, rows, dtype)
    (text,), counts = encode([Rows(given)])
    assert counts == [rows]
    assert text == dumps(given.log_rows()).decode()
    assert json.loads(text) == json.loads(dumps(given.log_rows()))
