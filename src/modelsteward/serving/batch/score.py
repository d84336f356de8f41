"""Scoring one chunk: parse CSV text, conform to the schema, predict, and log the chunk.

Every chunk becomes one prediction log record (route ``batch``); errors name the file
and the row counted from the file's start.
"""

from __future__ import annotations

import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.errors import BadRequest, InvalidInput, StewardError
from modelsteward.serving.batch.read import Chunk
from modelsteward.serving.batch.spec import BATCH_ROUTE, BatchPlan, Part, ScoringFailed
from modelsteward.serving.predict import as_rows
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.serving.runtime import LoadedVersion
from modelsteward.serving.scoring import ClassifierAnswer, predictions_of
from modelsteward.serving.validation import conform, schema_columns, tensor_column

# Schema types whose CSV text is parsed here, most exact target first, so that a bad cell
# can be located by row; other schema columns stay text and ``conform`` checks them.
_PARSED: dict[str, tuple[tuple[pa.DataType, ...], str]] = {
    "integer": ((pa.int64(), pa.float64()), "whole numbers"),
    "float": ((pa.float64(),), "numbers"),
    "boolean": ((pa.bool_(),), "booleans"),
}


def _parses(values: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | None:
    try:
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _first_unparsable(values: pa.Array, target: pa.DataType) -> int:
    """The first row that does not parse as ``target``, by bisection (a few casts)."""
    low, high = 0, len(values)
    while high - low > 1:
        middle = (low + high) // 2
        if _parses(values.slice(low, middle - low), target) is None:
            high = middle
        else:
            low = middle
    return low


def parse_text_columns(
    table: pa.Table, schema: dict[str, Any] | None, chunk: Chunk, name: str
) -> pa.Table:
    """CSV text of integer, float and boolean schema columns as values; bad cells named by row."""
    for column in schema_columns(schema):
        spec = _PARSED.get(str(column.get("type")))
        if spec is None or column["name"] not in table.column_names:
            continue
        targets, needs = spec
        position = table.column_names.index(column["name"])
        text = pc.utf8_trim_whitespace(table.column(position))
        parsed = next((p for t in targets if (p := _parses(text, t)) is not None), None)
        if parsed is None:
            row = chunk.offset + _first_unparsable(text.combine_chunks(), targets[-1])
            raise InvalidInput(
                f"{name}, row {row}: column {column['name']!r} needs {needs}",
                details={"file": name, "row": row, "column": column["name"]},
            )
        table = table.set_column(position, column["name"], parsed)
    return table


def _located(exc: StewardError, name: str, offset: int) -> StewardError:
    """``conform``'s error with the file and the row counted from the file's start."""
    row = exc.details.get("row")
    if isinstance(row, int):
        reason = exc.message.split(";", 1)[0]
        return type(exc)(
            f"{name}, row {offset + row}: {reason}",
            details={**exc.details, "file": name, "row": offset + row},
        )
    return type(exc)(f"{name}, from row {offset}: {exc.message}", details=exc.details)


def model_inputs(table: pa.Table, schema: dict[str, Any] | None, id_column: str | None) -> Any:
    """The columns the model takes: the schema's (in its order), else all but the id."""
    names = [c["name"] for c in schema_columns(schema)]
    if names and tensor_column(schema) is None:
        table = table.select([n for n in names if n in table.column_names])
    elif id_column is not None:
        table = table.drop_columns([id_column])
    return table.to_pandas()


def prediction_columns(outputs: Any, rows: int, output_schema: dict[str, Any] | None) -> pa.Table:
    """``prediction``, or one column per output (named by the output schema when it fits)."""
    if isinstance(outputs, pd.DataFrame):
        table = pa.Table.from_pandas(outputs, preserve_index=False)
        table = table.rename_columns([str(c) for c in outputs.columns])
    else:
        values = outputs.to_numpy() if isinstance(outputs, pd.Series) else np.asarray(outputs)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim == 1:
            table = pa.table({"prediction": pa.array(values)})
        elif values.ndim == 2:
            named = [str(c["name"]) for c in schema_columns(output_schema)]
            width = values.shape[1]
            names = named if len(named) == width else [f"prediction_{i}" for i in range(width)]
            table = pa.table({n: pa.array(values[:, i]) for i, n in enumerate(names)})
        else:
            raise ScoringFailed(f"the model returned {values.ndim}-dimensional predictions")
    if table.num_rows != rows:
        raise ScoringFailed(f"the model returned {table.num_rows} predictions for {rows} rows")
    return table.replace_schema_metadata(None)


def score_chunk(
    plan: BatchPlan, part: Part, loaded: LoadedVersion, log: PredictionLog, chunk: Chunk
) -> pa.Table:
    """Conform, predict, log; returns the output rows (kept input columns + predictions)."""
    name = fsspec.core.url_to_fs(part.source)[1]
    request_id = f"{plan.job_id}-{part.index}.{chunk.offset - part.first_row}"
    started = time.perf_counter()
    try:
        table = chunk.table
        if plan.id_column is not None and plan.id_column not in table.column_names:
            raise InvalidInput(f"{name} has no column {plan.id_column!r} (--id-column)")
        if part.format == "csv":
            table = parse_text_columns(table, loaded.input_schema, chunk, name)
        try:
            frame = model_inputs(table, loaded.input_schema, plan.id_column)
            inputs = conform(frame, loaded.input_schema)
        except (InvalidInput, BadRequest) as exc:
            raise _located(exc, name, chunk.offset) from None
        try:
            outputs = loaded.run(inputs)
        except Exception as exc:  # the model's own message may quote the data
            raise ScoringFailed(
                f"{name}, from row {chunk.offset}: {plan.model} v{plan.version} failed "
                f"({type(exc).__name__})"
            ) from exc
        predictions = prediction_columns(
            predictions_of(outputs), table.num_rows, loaded.output_schema
        )
        kept = table.select([plan.id_column]) if plan.id_column is not None else table
        clash = sorted(set(kept.column_names) & set(predictions.column_names))
        if clash:
            raise InvalidInput(f"{name} already has a column {clash[0]!r}; use --id-column")
    except StewardError as exc:
        _record(plan, log, request_id, [], [], started, exc.status, exc.code)
        raise
    logged = outputs.log_rows() if isinstance(outputs, ClassifierAnswer) else as_rows(outputs)
    _record(plan, log, request_id, logged_rows(inputs), logged, started, 200, None)
    for field in predictions.schema:
        kept = kept.append_column(field, predictions.column(field.name))
    return kept.replace_schema_metadata(None)


def logged_rows(inputs: Any) -> list[Any]:
    """The rows ``as_rows`` gives, through Arrow for frames: several times faster per chunk."""
    if isinstance(inputs, pd.DataFrame):
        with suppress(pa.ArrowException, TypeError, ValueError):
            return list(pa.Table.from_pandas(inputs, preserve_index=False).to_pylist())
    return as_rows(inputs)


def _record(
    plan: BatchPlan,
    log: PredictionLog,
    request_id: str,
    inputs: list[Any],
    outputs: list[Any],
    started: float,
    status: int,
    error: str | None,
) -> None:
    log.record(
        PredictionRecord(
            request_id=request_id,
            at=datetime.now(UTC),
            deployment=plan.deployment,
            model=plan.model,
            version=plan.version,
            route=BATCH_ROUTE,
            inputs=inputs,
            outputs=outputs,
            latency_ms=(time.perf_counter() - started) * 1000,
            status=status,
            error=error,
        )
    )
