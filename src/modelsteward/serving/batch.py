"""Batch scoring: a deployment's model over CSV or Parquet files, one chunk at a time.

Rows are read with pyarrow in chunks of ``chunk_rows``, conformed to the version's
input schema, predicted and appended to the output, so memory holds a few chunks
whatever the file's size. Every chunk becomes one prediction log record (route
``batch``). The same per-part function runs in this process or as a Dask task; see
docs/batch-scoring.md.
"""

from __future__ import annotations

import math
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.errors import BadRequest, Conflict, InvalidInput, NotFound, StewardError
from modelsteward.serving.deployments import get_deployment
from modelsteward.serving.plan import champion_of
from modelsteward.serving.predict import as_rows
from modelsteward.serving.predlog import PredictionLog, PredictionRecord
from modelsteward.serving.runtime import LoadedVersion, ModelCache
from modelsteward.serving.validation import MAX_ROWS, conform, schema_columns, tensor_column

Format = Literal["csv", "parquet"]
FORMATS: dict[str, Format] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
SUFFIX: dict[Format, str] = {"csv": ".csv", "parquet": ".parquet"}
BATCH_ROUTE = "batch"
DEFAULT_CHUNK_ROWS = 50_000
CSV_BLOCK_BYTES = 8 << 20  # CSV columns the schema does not type are inferred from this much
Progress = Callable[[int, int], None]  # (rows done, progress units done) since the last call

# Schema types whose CSV text is parsed here, most exact target first, so that a bad cell
# can be located by row; other schema columns stay text and ``conform`` checks them.
_PARSED: dict[str, tuple[tuple[pa.DataType, ...], str]] = {
    "integer": ((pa.int64(), pa.float64()), "whole numbers"),
    "float": ((pa.float64(),), "numbers"),
    "boolean": ((pa.bool_(),), "booleans"),
}


class ScoringFailed(StewardError):
    status, code, exit_code = 500, "scoring_failed", 1


@dataclass(frozen=True)
class ScoreRequest:
    """What a caller asks for; ``plan_job`` checks it against the stores and the files."""

    deployment: str
    input_url: str
    output_url: str
    version: int | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    id_column: str | None = None
    output_format: Format | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class Part:
    """One task: an input file, or a range of a Parquet file's row groups."""

    index: int
    source: str
    format: Format
    target: str
    target_format: Format
    units: int
    row_groups: tuple[int, ...] | None = None
    first_row: int = 0


@dataclass(frozen=True)
class BatchPlan:
    job_id: str
    deployment: str
    model: str
    version: int
    output: str
    output_format: Format
    chunk_rows: int
    id_column: str | None
    unit: Literal["rows", "bytes"]
    total_units: int
    parts: tuple[Part, ...]
    merge_dir: str | None = None  # parts written here are merged, in order, into ``output``


@dataclass(frozen=True)
class PartResult:
    index: int
    rows: int
    chunks: int
    units: int


@dataclass(frozen=True)
class BatchSummary:
    job_id: str
    deployment: str
    model: str
    version: int
    rows: int
    chunks: int
    files: int
    seconds: float
    rows_per_s: float
    output: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- planning ---------------------------------------------------------------------------
def resolve_target(steward: Steward, deployment: str, version: int | None) -> tuple[str, int]:
    """The model and version that score: the applied champion, or ``version`` if routed."""
    view = get_deployment(steward, deployment, history=1)
    if version is None:
        champion = champion_of(view.routes)
        if champion is None:
            raise Conflict(f"deployment {deployment!r} has no applied champion yet")
        return view.model, int(champion["version"])
    if not any(r["version"] == version for r in view.routes):
        raise NotFound(f"deployment {deployment!r} does not serve version {version}")
    return view.model, version


def open_file(fs: Any, path: str, mode: Literal["rb", "wb"]) -> Any:
    """Arrow's own file on a local disk (no Python in its I/O loop), else fsspec's."""
    if isinstance(fs, LocalFileSystem):
        return pa.OSFile(path, mode[0])
    return fs.open(path, mode)


def format_of(path: str) -> Format | None:
    return FORMATS.get(os.path.splitext(path)[1].lower())


def _inputs(url: str) -> tuple[Any, list[str], bool]:
    """The filesystem, the input files (sorted) and whether ``url`` is a folder."""
    fs, root = fsspec.core.url_to_fs(url)
    if not fs.exists(root):
        raise NotFound(f"input {url!r} does not exist")
    if not fs.isdir(root):
        if format_of(root) is None:
            raise InvalidInput(f"input {url!r} is neither .csv nor .parquet")
        return fs, [root], False
    files = sorted(
        str(entry["name"])
        for entry in fs.ls(root, detail=True)
        if entry["type"] == "file"
        and not str(entry["name"]).rsplit("/", 1)[-1].startswith((".", "_"))
        and format_of(str(entry["name"])) is not None
    )
    if not files:
        raise InvalidInput(f"folder {url!r} holds no .csv or .parquet files")
    if len({format_of(f) for f in files}) > 1:
        raise InvalidInput(f"folder {url!r} mixes CSV and Parquet files; score them separately")
    return fs, files, True


def _row_group_ranges(metadata: pq.FileMetaData, parts: int) -> list[tuple[int, ...]]:
    """Consecutive row groups in ``parts`` ranges of about equal rows."""
    target = math.ceil(metadata.num_rows / max(parts, 1))
    ranges: list[tuple[int, ...]] = []
    current: list[int] = []
    rows = 0
    for group in range(metadata.num_row_groups):
        current.append(group)
        rows += metadata.row_group(group).num_rows
        if rows >= target:
            ranges.append(tuple(current))
            current, rows = [], 0
    return ranges + ([tuple(current)] if current else [])


def plan_job(steward: Steward, request: ScoreRequest, *, split: int = 1) -> BatchPlan:
    """Check the request and cut it into parts; a single Parquet file may be cut in ``split``."""
    if not 1 <= request.chunk_rows <= MAX_ROWS:
        raise InvalidInput(f"--chunk-rows must be between 1 and {MAX_ROWS:,}")
    model, version = resolve_target(steward, request.deployment, request.version)
    in_fs, files, folder = _inputs(request.input_url)
    source_format = format_of(files[0])
    assert source_format is not None
    out_fs, out_root = fsspec.core.url_to_fs(request.output_url)
    out_root = str(out_root).rstrip("/") or "/"
    if out_fs.exists(out_root):
        if not request.overwrite:
            raise Conflict(f"output {request.output_url!r} already exists; pass --overwrite")
        if out_fs.isdir(out_root) != folder:
            kind = "a folder" if folder else "a file"
            raise Conflict(f"output {request.output_url!r} exists and is not {kind}")
    if folder:
        target_format: Format = request.output_format or "parquet"
        targets = [
            f"{out_root}/{os.path.splitext(f.rsplit('/', 1)[-1])[0]}{SUFFIX[target_format]}"
            for f in files
        ]
    else:
        found = format_of(out_root) or request.output_format
        if found is None:
            raise InvalidInput("the output must end in .parquet or .csv (or pass --format)")
        target_format, targets = found, [out_root]
    job_id = uuid.uuid4().hex[:16]
    parts: list[Part] = []
    merge_dir = None
    for index, (path, target) in enumerate(zip(files, targets, strict=True)):
        source, output = in_fs.unstrip_protocol(path), out_fs.unstrip_protocol(target)
        if source_format == "csv":
            parts.append(Part(index, source, "csv", output, target_format, in_fs.size(path)))
            continue
        with open_file(in_fs, path, "rb") as handle:
            metadata = pq.ParquetFile(handle).metadata
        ranges = _row_group_ranges(metadata, split) if not folder and split > 1 else []
        if len(ranges) < 2:
            parts.append(Part(index, source, "parquet", output, target_format, metadata.num_rows))
            continue
        parent, name = out_root.rsplit("/", 1) if "/" in out_root else (".", out_root)
        merge_dir = out_fs.unstrip_protocol(f"{parent}/.{name}.parts-{job_id}")
        first = 0
        for number, groups in enumerate(ranges):
            rows = sum(metadata.row_group(g).num_rows for g in groups)
            part = f"{merge_dir}/part-{number:05d}.parquet"
            parts.append(Part(number, source, "parquet", part, "parquet", rows, groups, first))
            first += rows
    return BatchPlan(
        job_id=job_id,
        deployment=request.deployment,
        model=model,
        version=version,
        output=out_fs.unstrip_protocol(out_root),
        output_format=target_format,
        chunk_rows=request.chunk_rows,
        id_column=request.id_column,
        unit="bytes" if source_format == "csv" else "rows",
        total_units=sum(p.units for p in parts),
        parts=tuple(parts),
        merge_dir=merge_dir,
    )


def load_target(steward: Steward, plan: BatchPlan) -> LoadedVersion:
    """Load the version in this process (trust checks apply); also caches its files locally."""
    return ModelCache().get(steward, plan.model, plan.version)


# -- reading ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Chunk:
    offset: int  # rows of the file before this chunk, counted from 0 without a header
    table: pa.Table
    units: int  # progress units done once this chunk is scored


def _rechunk(batches: Iterator[pa.RecordBatch], schema: pa.Schema, rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last may be shorter) from batches of any size."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema)


def _csv_failure(name: str, names: list[str], after: int, exc: pa.ArrowInvalid) -> InvalidInput:
    """Arrow's message quotes the offending text; keep only the column and the shape."""
    text = str(exc)
    column = re.search(r"CSV column #(\d+)", text)
    if column and int(column.group(1)) < len(names):
        return InvalidInput(
            f"{name}, after row {after}: column {names[int(column.group(1))]!r} holds a value "
            f"unlike its first rows (CSV types are inferred from the first "
            f"{CSV_BLOCK_BYTES >> 20} MiB)"
        )
    fields = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if fields:
        return InvalidInput(
            f"{name}, after row {after}: a line has {fields.group(2)} fields, "
            f"the header {fields.group(1)}"
        )
    return InvalidInput(f"{name}, after row {after}: not readable as CSV")


class _CsvProgress:
    """Bytes read as the chunks see them: Arrow reads blocks ahead, so its position runs
    ahead of the scoring; blocks are of equal size, so rows scored x bytes per row is not."""

    def __init__(self, size: int) -> None:
        self.size, self.rows, self.blocks = size, 0, 0

    def bytes_at(self, rows: int) -> int:
        read = min(self.blocks * CSV_BLOCK_BYTES, self.size)
        return min(self.size, rows * read // self.rows) if self.rows else 0


def _csv_batches(
    handle: Any, name: str, schema: dict[str, Any] | None, progress: _CsvProgress
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    typed = tensor_column(schema) is None
    text_columns = {c["name"]: pa.string() for c in schema_columns(schema)} if typed else {}
    try:
        reader = pacsv.open_csv(
            handle,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(
                column_types=text_columns, strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _csv_failure(name, [], 0, exc) from None

    def batches() -> Iterator[pa.RecordBatch]:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise _csv_failure(name, reader.schema.names, progress.rows, exc) from None
            progress.rows, progress.blocks = progress.rows + batch.num_rows, progress.blocks + 1
            yield batch

    return reader.schema, batches()


@contextmanager
def read_chunks(
    part: Part, chunk_rows: int, schema: dict[str, Any] | None
) -> Iterator[tuple[pa.Schema, Iterator[Chunk]]]:
    """The part's columns and its chunks, read lazily from its file."""
    fs, path = fsspec.core.url_to_fs(part.source)
    csv = _CsvProgress(part.units)
    with open_file(fs, path, "rb") as handle:
        if part.format == "parquet":
            parquet = pq.ParquetFile(handle)
            groups = list(part.row_groups) if part.row_groups is not None else None
            columns = parquet.schema_arrow
            batches = parquet.iter_batches(batch_size=chunk_rows, row_groups=groups)
        else:
            columns, batches = _csv_batches(handle, path, schema, csv)

        def chunks() -> Iterator[Chunk]:
            offset = part.first_row
            for table in _rechunk(batches, columns, chunk_rows):
                done = offset + table.num_rows - part.first_row
                yield Chunk(offset, table, done if part.format == "parquet" else csv.bytes_at(done))
                offset += table.num_rows

        yield columns, chunks()


# -- scoring ----------------------------------------------------------------------------
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
            outputs = loaded.predictor.predict(inputs)
        except Exception as exc:  # the model's own message may quote the data
            raise ScoringFailed(
                f"{name}, from row {chunk.offset}: {plan.model} v{plan.version} failed "
                f"({type(exc).__name__})"
            ) from exc
        predictions = prediction_columns(outputs, table.num_rows, loaded.output_schema)
        kept = table.select([plan.id_column]) if plan.id_column is not None else table
        clash = sorted(set(kept.column_names) & set(predictions.column_names))
        if clash:
            raise InvalidInput(f"{name} already has a column {clash[0]!r}; use --id-column")
    except StewardError as exc:
        _record(plan, log, request_id, [], [], started, exc.status, exc.code)
        raise
    _record(plan, log, request_id, logged_rows(inputs), as_rows(outputs), started, 200, None)
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


# -- writing ----------------------------------------------------------------------------
class OutputFile:
    """Appends tables under a hidden temporary name; renamed into place only when complete."""

    def __init__(self, url: str, fmt: Format, job_id: str, make_parent: bool = True) -> None:
        self.fs, path = fsspec.core.url_to_fs(url)
        self.make_parent = make_parent
        self.path = str(path)
        self.fmt = fmt
        parent, _, base = self.path.rpartition("/")
        self.parent = parent or "."
        self.tmp = f"{self.parent}/.{base}.{job_id}.tmp"
        self._handle: Any = None
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self.schema: pa.Schema | None = None

    def write(self, table: pa.Table, where: str = "") -> None:
        if self._writer is None:
            if self.make_parent:
                self.fs.makedirs(self.parent, exist_ok=True)
            self._handle = open_file(self.fs, self.tmp, "wb")
            self.schema = table.schema
            self._writer = (
                pq.ParquetWriter(self._handle, table.schema)
                if self.fmt == "parquet"
                else pacsv.CSVWriter(self._handle, table.schema)
            )
        elif not table.schema.equals(self.schema):
            try:
                table = table.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                raise InvalidInput(
                    f"{where}: the output columns differ in type from the first chunk's"
                ) from None
        self._writer.write_table(table)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._handle.close()
            self._writer = None

    def commit(self) -> None:
        self._close()
        if isinstance(self.fs, LocalFileSystem):
            os.replace(self.tmp, self.path)
            return
        if self.fs.exists(self.path):
            self.fs.rm(self.path)
        self.fs.mv(self.tmp, self.path)

    def abort(self) -> None:
        with suppress(Exception):
            self._close()
        with suppress(Exception):
            if self.fs.exists(self.tmp):
                self.fs.rm(self.tmp)


@contextmanager
def output_file(
    url: str, fmt: Format, job_id: str, make_parent: bool = True
) -> Iterator[OutputFile]:
    out = OutputFile(url, fmt, job_id, make_parent)
    try:
        yield out
    except BaseException:
        out.abort()
        raise
    out.commit()


# -- running ----------------------------------------------------------------------------
def score_part(
    plan: BatchPlan,
    part: Part,
    loaded: LoadedVersion,
    log: PredictionLog,
    on_progress: Progress | None = None,
) -> PartResult:
    """Read, score and write one part, chunk by chunk."""
    rows = chunks = units = 0
    # a part of a split file goes into the job's parts folder, which the job created; if the
    # job failed and removed it meanwhile, this part must fail rather than create it again
    with (
        output_file(part.target, part.target_format, plan.job_id, plan.merge_dir is None) as out,
        read_chunks(part, plan.chunk_rows, loaded.input_schema) as (columns, source),
    ):
        for chunk in source:
            out.write(score_chunk(plan, part, loaded, log, chunk), shown(part.source))
            rows, chunks = rows + chunk.table.num_rows, chunks + 1
            if on_progress is not None:
                on_progress(chunk.table.num_rows, chunk.units - units)
            units = chunk.units
        if not chunks:  # an empty input still gets an (empty) output
            keep = [plan.id_column] if plan.id_column in columns.names else columns.names
            out.write(columns.empty_table().select(keep))
    if on_progress is not None and part.units > units:
        on_progress(0, part.units - units)
    return PartResult(part.index, rows, chunks, part.units)


def prediction_log(settings: Settings) -> PredictionLog:
    """The shared log; ``max_buffer=1`` makes each chunk's record go out promptly."""
    return PredictionLog(settings.logs_url, flush_interval_s=settings.log_flush_s, max_buffer=1)


def _summary(plan: BatchPlan, results: list[PartResult], started: float) -> BatchSummary:
    seconds = time.perf_counter() - started
    rows = sum(r.rows for r in results)
    return BatchSummary(
        job_id=plan.job_id,
        deployment=plan.deployment,
        model=plan.model,
        version=plan.version,
        rows=rows,
        chunks=sum(r.chunks for r in results),
        files=len({p.source for p in plan.parts}),
        seconds=round(seconds, 3),
        rows_per_s=round(rows / seconds, 1) if seconds > 0 else 0.0,
        output=shown(plan.output),
    )


def shown(url: str) -> str:
    """A URL as people wrote it: a plain path for local files."""
    fs, path = fsspec.core.url_to_fs(url)
    return str(path) if isinstance(fs, LocalFileSystem) else url


def run_local(
    steward: Steward, plan: BatchPlan, loaded: LoadedVersion, on_progress: Progress | None = None
) -> BatchSummary:
    """Score every part in this process; the log is closed (flushed) even on failure."""
    started = time.perf_counter()
    log = prediction_log(steward.settings)
    try:
        prepare_parts(plan)
        results = [score_part(plan, part, loaded, log, on_progress) for part in plan.parts]
        merge_parts(plan)
    except BaseException:
        discard_parts(plan)
        raise
    finally:
        log.close()
    return _summary(plan, results, started)


def score_part_on_worker(settings: Settings, plan: BatchPlan, part: Part) -> PartResult:
    """A Dask task: load the version on this worker, score one part, flush the log."""
    steward = Steward(settings, migrate_schema=False)
    try:
        loaded = load_target(steward, plan)
        with prediction_log(settings) as log:
            return score_part(plan, part, loaded, log)
    finally:
        steward.close()


def prepare_parts(plan: BatchPlan) -> None:
    if plan.merge_dir is not None:
        fs, path = fsspec.core.url_to_fs(plan.merge_dir)
        fs.makedirs(path, exist_ok=True)


def merge_parts(plan: BatchPlan) -> None:
    """Concatenate the parts of one split file, in order, into the output; then drop them."""
    if plan.merge_dir is None:
        return
    with output_file(plan.output, plan.output_format, plan.job_id) as out:
        for part in plan.parts:
            fs, path = fsspec.core.url_to_fs(part.target)
            with open_file(fs, path, "rb") as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=plan.chunk_rows):
                    out.write(pa.Table.from_batches([batch]), shown(part.source))
    discard_parts(plan)


def discard_parts(plan: BatchPlan) -> None:
    if plan.merge_dir is not None:
        fs, path = fsspec.core.url_to_fs(plan.merge_dir)
        with suppress(FileNotFoundError):
            fs.rm(path, recursive=True)


def run_on_dask(
    client: Any,
    settings: Settings,
    plan: BatchPlan,
    on_progress: Progress | None = None,
) -> BatchSummary:
    """One task per part on the cluster ``client`` talks to; progress as tasks complete."""
    from dask.distributed import as_completed

    started = time.perf_counter()
    prepare_parts(plan)
    futures = [
        client.submit(
            score_part_on_worker,
            settings,
            plan,
            part,
            key=f"steward-score-{plan.job_id}-{part.index}",
            pure=False,
        )
        for part in plan.parts
    ]
    results: list[PartResult] = []
    try:
        for future in as_completed(futures):
            result: PartResult = future.result()
            results.append(result)
            if on_progress is not None:
                on_progress(result.rows, result.units)
        merge_parts(plan)
    except BaseException:
        client.cancel(futures)
        discard_parts(plan)
        raise
    return _summary(plan, sorted(results, key=lambda r: r.index), started)
