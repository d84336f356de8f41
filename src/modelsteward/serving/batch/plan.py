"""Planning a job: the version that scores, the input files, and how they are cut into parts."""

from __future__ import annotations

import math
import os
import uuid
from typing import Any

import fsspec
import pyarrow.parquet as pq

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.serving.batch.files import open_file
from modelsteward.serving.batch.spec import SUFFIX, BatchPlan, Format, Part, ScoreRequest, format_of
from modelsteward.serving.deployments import get_deployment
from modelsteward.serving.plan import champion_of
from modelsteward.serving.runtime import LoadedVersion, ModelCache
from modelsteward.serving.validation import MAX_ROWS


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
