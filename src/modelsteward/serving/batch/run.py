"""Running a job in this process: each part read, scored and written, chunk by chunk."""

from __future__ import annotations

import time

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.serving.batch.files import shown
from modelsteward.serving.batch.read import read_chunks
from modelsteward.serving.batch.score import score_chunk
from modelsteward.serving.batch.spec import BatchPlan, BatchSummary, Part, PartResult, Progress
from modelsteward.serving.batch.write import discard_parts, merge_parts, output_file, prepare_parts
from modelsteward.serving.predlog import PredictionLog
from modelsteward.serving.runtime import LoadedVersion


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
    return PredictionLog(
        settings.logs_url,
        flush_interval_s=settings.log_flush_s,
        max_buffer=1,
        compression=settings.log_part_compression,
    )


def summarize(plan: BatchPlan, results: list[PartResult], started: float) -> BatchSummary:
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
    return summarize(plan, results, started)
