"""Batch scoring: a deployment's model over CSV or Parquet files, one chunk at a time.

Rows are read with pyarrow in chunks of ``chunk_rows``, conformed to the version's
input schema, predicted and appended to the output, so memory holds a few chunks
whatever the file's size. Every chunk becomes one prediction log record (route
``batch``). The same per-part function runs in this process or as a Dask task; see
docs/batch-scoring.md.
"""

from modelsteward.serving.batch.distributed import run_on_dask, score_part_on_worker
from modelsteward.serving.batch.files import open_file, shown
from modelsteward.serving.batch.plan import load_target, plan_job, resolve_target
from modelsteward.serving.batch.read import Chunk, read_chunks
from modelsteward.serving.batch.run import prediction_log, run_local, score_part
from modelsteward.serving.batch.score import (
    logged_rows,
    model_inputs,
    parse_text_columns,
    prediction_columns,
    score_chunk,
)
from modelsteward.serving.batch.spec import (
    BATCH_ROUTE,
    CSV_BLOCK_BYTES,
    DEFAULT_CHUNK_ROWS,
    FORMATS,
    SUFFIX,
    BatchPlan,
    BatchSummary,
    Format,
    Part,
    PartResult,
    Progress,
    ScoreRequest,
    ScoringFailed,
    format_of,
)
from modelsteward.serving.batch.write import (
    OutputFile,
    discard_parts,
    merge_parts,
    output_file,
    prepare_parts,
)

__all__ = [
    "BATCH_ROUTE",
    "CSV_BLOCK_BYTES",
    "DEFAULT_CHUNK_ROWS",
    "FORMATS",
    "SUFFIX",
    "BatchPlan",
    "BatchSummary",
    "Chunk",
    "Format",
    "OutputFile",
    "Part",
    "PartResult",
    "Progress",
    "ScoreRequest",
    "ScoringFailed",
    "discard_parts",
    "format_of",
    "load_target",
    "logged_rows",
    "merge_parts",
    "model_inputs",
    "open_file",
    "output_file",
    "parse_text_columns",
    "plan_job",
    "prediction_columns",
    "prediction_log",
    "prepare_parts",
    "read_chunks",
    "resolve_target",
    "run_local",
    "run_on_dask",
    "score_chunk",
    "score_part",
    "score_part_on_worker",
    "shown",
]
