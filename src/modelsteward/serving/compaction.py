"""Compaction of the prediction log: one Parquet file per closed hour instead of thousands.

The writer leaves one file per flush (about 3 600 an hour per deployment and process),
and every window scan pays for each one. Once an hour is over plus a grace period, a
pass merges its part files into ``part-compacted-<uuid>.parquet``, sorted by ``at``,
whose metadata lists the files it replaces. Readers skip listed files (see
``partfiles.part_files``), so the switch is one atomic rename; the replaced files stay
for ``keep_replaced`` for readers that listed the folder before, and a later pass
removes them. Each folder is worked on under a claim (``logclaim``), so passes from
several processes or replicas never duplicate or lose a row. The same pass removes
temporary files that a crashed writer left behind.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from modelsteward.errors import IntegrityFailure
from modelsteward.names import check_name
from modelsteward.serving.hoursort import sorted_batches
from modelsteward.serving.logclaim import CLAIM_NAME, claim_folder
from modelsteward.serving.partfiles import (
    COMPACTED_AT_KEY,
    COMPACTED_PREFIX,
    REPLACES_KEY,
    basename,
    compacted_metadata,
    is_part,
    listed_parts,
    live_parts,
    replaced_by,
    write_atomically,
)
from modelsteward.store.filetimes import modified_at

GRACE = timedelta(minutes=5)
KEEP_REPLACED = timedelta(minutes=15)
TEMP_GRACE = timedelta(hours=1)
SCHEDULED_MAX_HOURS = 24  # per scheduled pass, so a backlog never holds up other jobs
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HourCompacted:
    """One hour merged into one file: how many files and bytes it had, and its rows."""

    deployment: str
    hour: str
    files_before: int
    rows: int
    bytes_before: int
    bytes_after: int


@dataclass(frozen=True)
class CompactionReport:
    """What one pass did; ``busy`` hours were claimed by another compactor meanwhile."""

    compacted: tuple[HourCompacted, ...] = ()
    replaced_removed: int = 0
    temp_removed: int = 0
    busy: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "hours_compacted": len(self.compacted),
            "files_before": sum(h.files_before for h in self.compacted),
            "files_after": len(self.compacted),
            "rows": sum(h.rows for h in self.compacted),
            "bytes_before": sum(h.bytes_before for h in self.compacted),
            "bytes_after": sum(h.bytes_after for h in self.compacted),
            "replaced_removed": self.replaced_removed,
            "temp_removed": self.temp_removed,
            "busy": list(self.busy),
            "failed": list(self.failed),
            "hours": [asdict(h) for h in self.compacted],
        }


def compact_log(
    logs_url: str,
    *,
    deployment: str | None = None,
    now: datetime | None = None,
    grace: timedelta = GRACE,
    keep_replaced: timedelta = KEEP_REPLACED,
    temp_grace: timedelta = TEMP_GRACE,
    max_hours: int | None = None,
) -> CompactionReport:
    """Compact every closed hour (of one deployment, or all) and remove stale temp files.

    An hour is closed once ``grace`` has passed since its end at ``now``; temporary
    files are judged by the clock, since their times come from the storage. Safe to run
    again, or from several processes at once: an hour another pass holds is reported busy.
    """
    fs, path = fsspec.core.url_to_fs(logs_url.rstrip("/"))
    now = now or datetime.now(UTC)
    compacted: list[HourCompacted] = []
    busy: list[str] = []
    failed: list[str] = []
    replaced_removed = temp_removed = 0
    for name, hour, folder in hour_folders(fs, str(path).rstrip("/"), deployment):
        entries = [str(p) for p in fs.ls(folder, detail=False)]
        temp_removed += remove_stale_temp(fs, entries, datetime.now(UTC) - temp_grace)
        if max_hours is not None and len(compacted) >= max_hours:
            continue
        if not _closed(hour, now, grace) or not _needs_pass(entries):
            continue
        try:
            held, removed, done = _compact_hour(fs, name, hour, folder, now, keep_replaced)
        except Exception:  # one damaged hour must not stop the others
            _log.exception("compacting %s hour %s failed", name, hour)
            failed.append(f"{name}/{hour}")
            continue
        replaced_removed += removed
        if not held:
            busy.append(f"{name}/{hour}")
        elif done is not None:
            compacted.append(done)
    return CompactionReport(
        tuple(compacted), replaced_removed, temp_removed, tuple(busy), tuple(failed)
    )


def hour_folders(fs: Any, root: str, deployment: str | None) -> list[tuple[str, str, str]]:
    """(deployment, hour, folder) of every hour folder, oldest hour first per deployment."""
    if deployment is not None:
        bases = [f"{root}/deployment={check_name(deployment, what='deployment name')}"]
    else:
        bases = [p for p in _folders(fs, root) if basename(p).startswith("deployment=")]
    found = []
    for base in bases:
        name = basename(base).removeprefix("deployment=")
        for folder in _folders(fs, base):
            hour = basename(folder).removeprefix("hour=")
            if hour != basename(folder) and _hour_start(hour) is not None:
                found.append((name, hour, folder))
    return found


def remove_stale_temp(fs: Any, entries: list[str], cutoff: datetime) -> int:
    """Remove the hidden ``.tmp`` files among ``entries`` last written before ``cutoff``:
    what a writer or a compactor that crashed mid-write left behind."""
    removed = 0
    for path in entries:
        name = basename(path)
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        written = modified_at(fs, path)
        if written is None or written >= cutoff:
            continue
        with suppress(FileNotFoundError):  # another pass removed it first
            fs.rm(path)
            removed += 1
    return removed


def _needs_pass(entries: list[str]) -> bool:
    """Two part files or more (to merge, or replaced ones to remove), or a crashed
    compactor's claim file to clear away."""
    return sum(is_part(p) for p in entries) > 1 or any(basename(p) == CLAIM_NAME for p in entries)


def _compact_hour(
    fs: Any, deployment: str, hour: str, folder: str, now: datetime, keep: timedelta
) -> tuple[bool, int, HourCompacted | None]:
    """(claim held, replaced files removed, what was merged) for one closed hour."""
    with claim_folder(fs, folder) as held:
        if not held:
            return False, 0, None
        removed = remove_replaced(fs, folder, now - keep)
        live = live_parts(fs, listed_parts(fs, folder))
        if len(live) < 2:
            return True, removed, None
        done = _merge(fs, deployment, hour, folder, live, now)
        return True, removed + remove_replaced(fs, folder, now - keep), done


def remove_replaced(fs: Any, folder: str, cutoff: datetime) -> int:
    """Remove the files replaced by a compacted file written before ``cutoff``.

    Only the holder of the folder's claim may call this.
    """
    parts = listed_parts(fs, folder)
    present = {basename(p): p for p in parts}
    doomed: list[str] = []
    for path in live_parts(fs, parts):
        if not basename(path).startswith(COMPACTED_PREFIX):
            continue
        written = compacted_metadata(fs, path).get(COMPACTED_AT_KEY)
        if written is not None and datetime.fromisoformat(written.decode()) <= cutoff:
            doomed += (present[name] for name in sorted(replaced_by(fs, path) & present.keys()))
    if doomed and isinstance(fs, LocalFileSystem):
        for path in doomed:
            os.remove(path)
    elif doomed:
        fs.rm(doomed)  # one call: object stores delete in bulk
    return len(doomed)


def _merge(
    fs: Any, deployment: str, hour: str, folder: str, live: list[str], now: datetime
) -> HourCompacted:
    """Write ``live`` as one compacted file sorted by ``at``; the sources stay for now."""
    footers = [_footer(fs, p) for p in live]
    schema = pa.unify_schemas([f.schema.to_arrow_schema().remove_metadata() for f in footers])
    rows = sum(f.num_rows for f in footers)
    replaces = {basename(p) for p in live}
    for path in live:  # a compacted source's own sources, so none revives if it lingers
        if basename(path).startswith(COMPACTED_PREFIX):
            replaces |= replaced_by(fs, path)
    target = schema.with_metadata(
        {REPLACES_KEY: json.dumps(sorted(replaces)).encode(), COMPACTED_AT_KEY: now.isoformat()}
    )
    sizes = {basename(str(e["name"])): int(e.get("size") or 0) for e in fs.ls(folder, detail=True)}

    def write(out: IO[bytes]) -> None:
        written = 0
        with sorted_batches(fs, live, schema) as batches, pq.ParquetWriter(out, target) as writer:
            for batch in batches:
                writer.write_batch(batch.cast(schema))
                written += batch.num_rows
        if written != rows:
            raise IntegrityFailure(f"compaction read {written} rows of {rows}; nothing changed")

    final = write_atomically(fs, folder, write, prefix=COMPACTED_PREFIX)
    return HourCompacted(
        deployment,
        hour,
        files_before=len(live),
        rows=rows,
        bytes_before=sum(sizes.get(basename(p), 0) for p in live),
        bytes_after=int(fs.size(final)),
    )


def _footer(fs: Any, path: str) -> pq.FileMetaData:
    if isinstance(fs, LocalFileSystem):
        return pq.read_metadata(path)
    with fs.open(path, "rb") as source:
        return pq.read_metadata(source)


def _folders(fs: Any, folder: str) -> list[str]:
    if not fs.isdir(folder):
        return []
    entries = fs.ls(folder, detail=True)
    return sorted(str(e["name"]).rstrip("/") for e in entries if e.get("type") == "directory")


def _hour_start(hour: str) -> datetime | None:
    try:
        return datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    except ValueError:
        return None


def _closed(hour: str, now: datetime, grace: timedelta) -> bool:
    start = _hour_start(hour)
    return start is not None and start + timedelta(hours=1) + grace <= now


def scheduled_compaction(logs_url: str, grace_minutes: float) -> int:
    """The server's periodic pass: a bounded number of hours; returns the hours merged."""
    report = compact_log(
        logs_url, grace=timedelta(minutes=grace_minutes), max_hours=SCHEDULED_MAX_HOURS
    )
    return len(report.compacted)
