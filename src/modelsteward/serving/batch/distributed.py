"""Running a job on a Dask cluster: one task per part, each loading the version itself."""

from __future__ import annotations

import time
from typing import Any

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.serving.batch.plan import load_target
from modelsteward.serving.batch.run import prediction_log, score_part, summarize
from modelsteward.serving.batch.spec import BatchPlan, BatchSummary, Part, PartResult, Progress
from modelsteward.serving.batch.write import discard_parts, merge_parts, prepare_parts


def score_part_on_worker(settings: Settings, plan: BatchPlan, part: Part) -> PartResult:
    """A Dask task: load the version on this worker, score one part, flush the log."""
    steward = Steward(settings, migrate_schema=False)
    try:
        loaded = load_target(steward, plan)
        with prediction_log(settings) as log:
            return score_part(plan, part, loaded, log)
    finally:
        steward.close()


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
    return summarize(plan, sorted(results, key=lambda r: r.index), started)
