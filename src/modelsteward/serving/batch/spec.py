"""What a batch job is: the request, its plan and parts, their results, and formats.

Plain frozen data, passed from planning to the local run and to Dask workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from modelsteward.errors import StewardError

Format = Literal["csv", "parquet"]
FORMATS: dict[str, Format] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
SUFFIX: dict[Format, str] = {"csv": ".csv", "parquet": ".parquet"}
BATCH_ROUTE = "batch"
DEFAULT_CHUNK_ROWS = 50_000
CSV_BLOCK_BYTES = 8 << 20  # CSV columns the schema does not type are inferred from this much
Progress = Callable[[int, int], None]  # (rows done, progress units done) since the last call


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


def format_of(path: str) -> Format | None:
    return FORMATS.get(os.path.splitext(path)[1].lower())
