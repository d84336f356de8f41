"""Drift over a window too big for one machine: summarised on Dask, merged, compared here.

A data_drift or prediction_drift monitor whose window holds at least
``STEWARD_DASK_MIN_ROWS`` predictions (default 5 000 000) is computed here when
``STEWARD_DASK_ADDRESS`` names a scheduler. Each task reads one group of the window's
part files (an hour, or up to 256 files of it) batch by batch and summarises it against
the reference's sketch edges (a ``WindowState``); states merge exactly, so the drift
results are the ones the monitor computes on one machine (see docs/drift.md, "Windows
on Dask"). The same tasks run one after another in this process with ``InProcess``.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift import DriftResult
from modelsteward.monitoring.drift.compare import drift_from_state
from modelsteward.monitoring.drift.window import WindowState
from modelsteward.monitoring.specs import DriftSpec
from modelsteward.monitoring.windows.facts import GroupFacts, columns_of, group_facts
from modelsteward.monitoring.windows.scan import (
    WindowColumns,
    WindowScope,
    scope_of,
    typed_batches,
)
from modelsteward.monitoring.windows.segments import MAX_SEGMENTS
from modelsteward.profiles.dataset import DatasetProfile

log = logging.getLogger(__name__)
DEFAULT_MIN_ROWS = 5_000_000

PLAIN = (str, int, float, list, tuple, dict, set)
ReferenceFor = Callable[[int | None], tuple[DatasetProfile | None, str]]
SegmentsFor = Callable[[int | None], dict[str, DatasetProfile] | None]


def dask_min_rows(env: Mapping[str, str] | None = None) -> int:
    """``STEWARD_DASK_MIN_ROWS``: the fewest predictions in a window that go to Dask."""
    raw = (os.environ if env is None else env).get("STEWARD_DASK_MIN_ROWS", "")
    if not raw.strip():
        return DEFAULT_MIN_ROWS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidInput(f"STEWARD_DASK_MIN_ROWS must be a whole number >= 0, not {raw[:20]!r}")
    return value


class Executor(Protocol):
    name: str

    def map(self, task: Callable[..., Any], items: Sequence[Any], **shared: Any) -> list[Any]:
        """``task(item, **shared)`` for every item, results in the items' order."""
        ...


class InProcess:
    """The tasks one after another here: one batch of one group in memory at a time."""

    name = "in process"

    def map(self, task: Callable[..., Any], items: Sequence[Any], **shared: Any) -> list[Any]:
        return [task(item, **shared) for item in items]


class OnDask:
    """The tasks on the cluster a ``dask.distributed.Client`` talks to."""

    name = "dask"

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, task: Callable[..., Any], items: Sequence[Any], **shared: Any) -> list[Any]:
        token = uuid.uuid4().hex[:12]
        # objects (the reference profile, the scope) travel once, not once per task
        sent = {
            k: v if v is None or isinstance(v, PLAIN) else self.client.scatter(v, hash=False)
            for k, v in shared.items()
        }
        futures = [
            self.client.submit(
                task, item, key=f"steward-window-{task.__name__}-{token}-{i}", pure=False, **sent
            )
            for i, item in enumerate(items)
        ]
        try:
            return list(self.client.gather(futures))
        except BaseException:
            self.client.cancel(futures)
            raise


@contextmanager
def dask_executor(address: str, timeout_s: float = 20.0) -> Iterator[OnDask | None]:
    """A client for the scheduler at ``address``; None (with a warning) when unreachable,
    so a monitor still runs on this machine while the cluster is away."""
    client = None
    try:
        from dask.distributed import Client

        client = Client(address, timeout=f"{timeout_s}s")
    except ImportError:
        log.warning("STEWARD_DASK_ADDRESS is set but dask.distributed is not installed")
    except (OSError, TimeoutError) as exc:
        log.warning("cannot reach the Dask scheduler at %s (%s); computing here", address, exc)
    if client is None:
        yield None
        return
    with client:
        yield OnDask(client)


@dataclass(frozen=True)
class WindowDrift:
    """A window's drift per segment ("" is the whole window), as the runner stores it."""

    rows: int
    start: datetime | None
    version: int | None
    detail: dict[str, Any]
    results: list[tuple[str, DriftResult]] = field(default_factory=list)


def window_drift(
    settings: Settings,
    deployment: str,
    spec: DriftSpec,
    now: datetime,
    reference_for: ReferenceFor,
    *,
    executor: Executor | None = None,
    min_rows: int | None = None,
    segments_for: SegmentsFor | None = None,
) -> WindowDrift | None:
    """The monitor's drift computed in parts, or None where the single-machine path should
    run: no ``STEWARD_DASK_ADDRESS`` (and no ``executor``), fewer predictions than the
    threshold, no reference yet (that path captures one), or keys differing only in case.

    ``reference_for(version)`` gives the reference profile of the window's dominant version,
    ``segments_for(version)`` each segment's own (None: none yet, that path captures them).
    """
    if executor is None and not settings.dask_address:
        return None
    scope = scope_of(
        settings.logs_url,
        deployment,
        now=now,
        hours=spec.window.hours,
        last=spec.window.last,
        route=spec.route,
        max_rows=spec.max_rows,
    )
    if scope.total < (dask_min_rows() if min_rows is None else min_rows):
        return None
    if executor is not None:
        return drift_in_parts(scope, spec, reference_for, executor, segments_for)
    with dask_executor(str(settings.dask_address)) as dask:
        if dask is None:
            return None
        return drift_in_parts(scope, spec, reference_for, dask, segments_for)


def drift_in_parts(
    scope: WindowScope,
    spec: DriftSpec,
    reference_for: ReferenceFor,
    executor: Executor,
    segments_for: SegmentsFor | None = None,
) -> WindowDrift | None:
    """Facts, then segment counts (with ``segment_by``), then summaries: one task per
    group each time, merged here in the groups' order and compared with the reference."""
    facts = GroupFacts()
    for part in executor.map(group_facts, scope.groups, scope=scope):
        facts.merge(part)
    columns = columns_of(facts)
    if columns is None:
        log.info("%s: keys differ only in case; its window is read on one machine", spec.type)
        return None
    start = scope.start
    if start is None and facts.first_at is not None:
        start = datetime.fromtimestamp(facts.first_at / 1e6, tz=UTC)
    detail: dict[str, Any] = {
        "sampled": scope.sampled,
        "total_rows": scope.total,
        "computed_on": executor.name,
        "tasks": len(scope.groups),
    }
    found = WindowDrift(facts.rows, start, facts.version, detail)
    if facts.rows < spec.min_rows:
        return found
    reference, source = reference_for(facts.version)
    if reference is None:
        return None
    detail["baseline"] = source
    config = spec.drift_config()
    side, typed = (
        ("o", columns.outputs) if spec.type == "prediction_drift" else ("i", columns.inputs)
    )
    names = [f"{side}:{k}" for k, _ in typed if config.columns is None or k in config.columns]
    segment = spec.segment_by if spec.segment_by in dict(columns.inputs) else None
    values: list[str] = []
    references = [reference]
    if segment is not None:
        own = segments_for(facts.version) if segments_for is not None else None
        if own is None:
            return None  # the single-machine path captures the segments' references
        counts: Counter[str | None] = Counter()
        for part in executor.map(
            segment_counts, scope.groups, scope=scope, columns=columns, segment=segment
        ):
            counts.update(part)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        frequent = [str(v) for v, _ in ranked if v is not None][:MAX_SEGMENTS]
        missing = [f"{segment}={v}"[:128] for v in frequent if f"{segment}={v}"[:128] not in own]
        if missing:
            detail["segments_without_reference"] = missing
        values = [v for v in frequent if f"{segment}={v}"[:128] in own]
        references += [own[f"{segment}={v}"[:128]] for v in values]
    labels = ["", *(f"{segment}={value}"[:128] for value in values)]
    states = [WindowState() for _ in labels]
    parts = executor.map(
        group_states,
        scope.groups,
        scope=scope,
        columns=columns,
        names=names,
        references=references,
        segment=segment,
        values=values,
    )
    for part in parts:
        for state, piece in zip(states, part, strict=True):
            state.merge(piece)
    for label, state, ref in zip(labels, states, references, strict=True):
        found.results.append((label, drift_from_state(ref, state, config)))
    return found


def _segment_values(batch: pa.RecordBatch, segment: str) -> pa.Array:
    return pc.cast(batch.column(f"i:{segment}"), pa.string())


def segment_counts(
    files: tuple[str, ...], scope: WindowScope, columns: WindowColumns, segment: str
) -> dict[str | None, int]:
    """A task: how often each value of the segment column occurs in one group."""
    counts: Counter[str | None] = Counter()
    for batch in typed_batches(files, scope, columns, [f"i:{segment}"]):
        for item in pc.value_counts(_segment_values(batch, segment)).to_pylist():
            counts[item["values"]] += int(item["counts"])
    return dict(counts)


def group_states(
    files: tuple[str, ...],
    scope: WindowScope,
    columns: WindowColumns,
    names: list[str],
    references: list[DatasetProfile],
    segment: str | None,
    values: list[str],
) -> list[WindowState]:
    """A task: one group summarised for the whole window against ``references[0]``, then
    each segment value against its own reference, without the segmenting column."""
    wanted = names + ([f"i:{segment}"] if segment and f"i:{segment}" not in names else [])
    within = [n for n in names if n != f"i:{segment}"]
    states = [WindowState() for _ in range(len(values) + 1)]
    for batch in typed_batches(files, scope, columns, wanted):
        data = batch.select(names).rename_columns([n[2:] for n in names])
        states[0].add(references[0], data)
        if values:
            cast = _segment_values(batch, str(segment))
            inner = batch.select(within).rename_columns([n[2:] for n in within])
            for state, value, ref in zip(states[1:], values, references[1:], strict=True):
                state.add(ref, inner.filter(pc.equal(cast, value)))
    return states
