"""Compaction turns each closed hour of the prediction log into one file; no reader ever
sees a row twice or misses one, however passes, readers and writers interleave."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from modelsteward.background import background_work
from modelsteward.cli.main import app as cli
from modelsteward.context import Steward
from modelsteward.monitoring.windows import read_window
from modelsteward.monitoring.windows.scan import open_rows, scope_of
from modelsteward.serving import hoursort
from modelsteward.serving.compaction import CompactionReport, compact_log
from modelsteward.serving.logclaim import CLAIM_NAME
from modelsteward.serving.partfiles import COMPACTED_PREFIX, listed_parts, part_files
from modelsteward.serving.predlog import (
    FILE_SCHEMA,
    PredictionLog,
    PredictionRecord,
    duckdb_connection,
)

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2, minutes=30)  # hours 10 and 11 are closed, 12 is open
LATER = NOW + timedelta(minutes=16)  # past the 15 minutes replaced files are kept
CLOSED, OPEN = ("2024-05-01T10", "2024-05-01T11"), "2024-05-01T12"


def rec(request_id: str, at: datetime, deployment: str = "churn") -> PredictionRecord:
    n = int(request_id.rsplit("-", 1)[-1]) if request_id[-1].isdigit() else 0
    return PredictionRecord(
        request_id=request_id,
        at=at,
        deployment=deployment,
        model="churn-model",
        version=1 + n % 2,
        route="champion",
        inputs=[{"age": 20 + n % 50, "income": 1000.5 + n}],
        outputs=[(n % 10) / 10],
        latency_ms=1.5,
        status=200,
        key=f"customer-{n}" if n % 3 else None,
    )


def write_flushes(log: PredictionLog, prefix: str, flushes: int, per_flush: int = 4) -> None:
    """One part file per flush and hour, records out of time order within and across flushes."""
    for f in range(flushes):
        for i in range(per_flush):
            for h in range(3):
                seconds = (f * 7919 + i * 104_729) % 3600  # scattered over the hour
                log.record(rec(f"{prefix}{h}-{f}-{i}", T0 + timedelta(hours=h, seconds=seconds)))
        log.flush()


@pytest.fixture(params=["local", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "logs")
        return
    url = f"memory://compaction-{uuid.uuid4().hex}"
    yield url
    fsspec.filesystem("memory").rm(url.removeprefix("memory://"), recursive=True)


@pytest.fixture
def log(root: str) -> Iterator[PredictionLog]:
    log = PredictionLog(root, flush_interval_s=3600)
    yield log
    log.close()


def folder(log: PredictionLog, hour: str, deployment: str = "churn") -> str:
    return f"{log.root}/deployment={deployment}/hour={hour}"


def test_closed_hours_become_one_sorted_file_with_the_same_rows(log: PredictionLog) -> None:
    write_flushes(log, "r", flushes=12)
    before = log.read("churn")
    open_files = part_files(log.fs, folder(log, OPEN))

    report = compact_log(log.url, now=NOW)

    assert [(h.hour, h.files_before, h.rows) for h in report.compacted] == [
        (CLOSED[0], 12, 48),
        (CLOSED[1], 12, 48),
    ]
    assert log.read("churn").equals(before)
    for hour in CLOSED:
        (only,) = part_files(log.fs, folder(log, hour))
        assert only.rsplit("/", 1)[-1].startswith(COMPACTED_PREFIX)
        with log.fs.open(only, "rb") as source:
            table = pq.read_table(source)
        assert table.schema.remove_metadata() == FILE_SCHEMA
        assert table.column("at").to_pylist() == sorted(table.column("at").to_pylist())
        assert len(listed_parts(log.fs, folder(log, hour))) == 13  # merged files kept for now
    assert part_files(log.fs, folder(log, OPEN)) == open_files

    later = compact_log(log.url, now=LATER)

    assert later.compacted == () and later.replaced_removed == 24
    for hour in CLOSED:
        assert len(listed_parts(log.fs, folder(log, hour))) == 1
    assert log.read("churn").equals(before)


def codecs(fs: fsspec.AbstractFileSystem, path: str) -> set[str]:
    with fs.open(path, "rb") as source:
        meta = pq.read_metadata(source)
    return {
        meta.row_group(g).column(c).compression
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }


def test_uncompressed_part_files_are_compressed_when_their_hour_is_compacted(root: str) -> None:
    with PredictionLog(root, flush_interval_s=3600, compression="none") as log:
        write_flushes(log, "r", flushes=3)
        before = log.read("churn")
        assert all(
            codecs(log.fs, path) == {"UNCOMPRESSED"}
            for hour in (*CLOSED, OPEN)
            for path in part_files(log.fs, folder(log, hour))
        )

        compact_log(log.url, now=NOW)

        for hour in CLOSED:
            (only,) = part_files(log.fs, folder(log, hour))
            assert codecs(log.fs, only) == {"SNAPPY"}
        assert log.read("churn").equals(before)


def test_an_hour_of_wide_rows_is_sorted_in_slices_that_fit_the_memory_limit(
    log: PredictionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 000-row requests make rows of hundreds of kB: DuckDB could not spill their sort."""
    monkeypatch.setattr(hoursort, "SORT_MEMORY", "40MB")
    monkeypatch.setattr(hoursort, "SLICE_BYTES", 4 << 20)
    wide = [{f"f{i}": 0.123456789 * (i + 1) for i in range(20)} for _ in range(1000)]
    for f in range(8):
        for i in range(10):
            at = T0 + timedelta(seconds=(f * 7919 + i * 104_729) % 3600 // 2 * 2)  # some twins
            log.record(replace(rec(f"w-{f}-{i}", at), inputs=wide))
        log.flush()
    before = log.read("churn")
    source = part_files(log.fs, folder(log, CLOSED[0]))
    with duckdb_connection() as con:
        table, params = hoursort._source(con, log.fs, source, FILE_SCHEMA)
        pieces = hoursort.slices(con, table, params, FILE_SCHEMA)
    assert len(pieces) > 5 and sum(p.rows for p in pieces) == 80
    assert all(a.stop == b.start for a, b in itertools.pairwise(pieces))

    report = compact_log(log.url, now=NOW)

    assert [(h.hour, h.rows) for h in report.compacted] == [(CLOSED[0], 80)]
    assert log.read("churn").equals(before)
    (only,) = part_files(log.fs, folder(log, CLOSED[0]))
    with log.fs.open(only, "rb") as compacted:
        order = pq.read_table(compacted, columns=["at", "request_id"]).to_pylist()
    assert order == sorted(order, key=lambda row: (row["at"], row["request_id"]))


def test_a_second_pass_changes_nothing(log: PredictionLog) -> None:
    write_flushes(log, "r", flushes=3)
    compact_log(log.url, now=NOW)
    files = {h: part_files(log.fs, folder(log, h)) for h in (*CLOSED, OPEN)}
    before = log.read("churn")

    again = compact_log(log.url, now=NOW + timedelta(minutes=1))

    assert again.as_dict()["hours_compacted"] == 0 and again.replaced_removed == 0
    assert {h: part_files(log.fs, folder(log, h)) for h in (*CLOSED, OPEN)} == files
    assert log.read("churn").equals(before)


def test_a_late_part_beside_a_compacted_hour_is_read_and_merged_next_pass(
    log: PredictionLog,
) -> None:
    write_flushes(log, "r", flushes=3)
    compact_log(log.url, now=NOW)
    log.record(rec("late-1", T0 + timedelta(minutes=59, seconds=59)))
    log.flush()

    assert "late-1" in log.read("churn").column("request_id").to_pylist()
    assert len(part_files(log.fs, folder(log, CLOSED[0]))) == 2
    expected = log.read("churn")

    report = compact_log(log.url, now=LATER)

    assert [(h.hour, h.files_before, h.rows) for h in report.compacted] == [(CLOSED[0], 2, 13)]
    assert log.read("churn").equals(expected)
    compact_log(log.url, now=LATER + timedelta(minutes=16))
    assert len(listed_parts(log.fs, folder(log, CLOSED[0]))) == 1
    assert log.read("churn").equals(expected)


def test_a_reader_during_compaction_never_sees_a_row_twice_or_misses_one(tmp_path: Path) -> None:
    """Passes run back to back (each removing what the one before replaced) while late
    files keep arriving; every read holds each row flushed before it began, at most once."""
    log = PredictionLog(str(tmp_path / "logs"), flush_interval_s=3600)
    write_flushes(log, "r", flushes=15)
    flushed = set(log.read("churn").column("request_id").to_pylist())
    started = set(flushed)
    done = threading.Event()
    problems: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        reading = PredictionLog(log.url, flush_interval_s=3600)
        while not done.is_set():
            low = set(flushed)
            ids = reading.read("churn").column("request_id").to_pylist()
            high = set(started)
            if len(ids) != len(set(ids)):
                problems.append(f"read {reads}: {len(ids) - len(set(ids))} rows twice")
            if not low <= set(ids) <= high:
                problems.append(f"read {reads}: {len(low - set(ids))} rows missing")
            reads += 1
        reading.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(25):
            late = f"late-{round_}"
            started.add(late)
            log.record(rec(late, T0 + timedelta(hours=round_ % 2, minutes=round_)))
            log.flush()
            flushed.add(late)
            report = compact_log(log.url, now=NOW + timedelta(minutes=20 * round_))
            assert report.failed == ()
    finally:
        done.set()
        thread.join()
        log.close()
    assert problems == [] and reads >= 10
    assert sorted(log.read("churn").column("request_id").to_pylist()) == sorted(flushed)


def test_compactors_racing_on_the_same_hours_give_one_correct_result(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path / "logs"), flush_interval_s=3600)
    write_flushes(log, "r", flushes=10)
    for round_ in range(8):
        log.record(rec(f"late-{round_}", T0 + timedelta(minutes=round_)))
        log.flush()
        expected = log.read("churn")
        gate = threading.Barrier(3)
        reports: list[CompactionReport] = []

        def compactor(now: datetime, gate: threading.Barrier, out: list[CompactionReport]) -> None:
            gate.wait()
            out.append(compact_log(log.url, now=now))

        now = NOW + timedelta(minutes=20 * round_)
        threads = [threading.Thread(target=compactor, args=(now, gate, reports)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        merged = [h.hour for r in reports for h in r.compacted]
        assert len(merged) == len(set(merged)) >= 1  # each hour merged by one compactor
        assert all(r.failed == () for r in reports)
        assert log.read("churn").equals(expected)
        assert len(part_files(log.fs, folder(log, CLOSED[0]))) == 1
    compact_log(log.url, now=NOW + timedelta(hours=5))
    for hour in CLOSED:
        assert len(listed_parts(log.fs, folder(log, hour))) == 1
    assert log.read("churn").num_rows == 3 * 40 + 8
    log.close()


def test_an_hour_claimed_by_another_process_waits_until_that_process_dies(
    tmp_path: Path,
) -> None:
    log = PredictionLog(str(tmp_path / "logs"), flush_interval_s=3600)
    write_flushes(log, "r", flushes=3)
    log.close()
    holding = (
        "import sys, fsspec\n"
        "from modelsteward.serving.logclaim import claim_folder\n"
        "with claim_folder(fsspec.filesystem('file'), sys.argv[1]) as held:\n"
        "    print(held, flush=True)\n"
        "    sys.stdin.read()\n"
    )
    command = [sys.executable, "-c", holding, folder(log, CLOSED[0])]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
            report = compact_log(log.url, now=NOW)
            assert report.busy == (f"churn/{CLOSED[0]}",)
            assert [h.hour for h in report.compacted] == [CLOSED[1]]
            assert len(part_files(log.fs, folder(log, CLOSED[0]))) == 3
        finally:
            holder.kill()  # a crash: the kernel drops its lock, the lock file stays behind
    assert Path(folder(log, CLOSED[0]), CLAIM_NAME).exists()

    report = compact_log(log.url, now=NOW)

    assert [h.hour for h in report.compacted] == [CLOSED[0]] and report.busy == ()
    assert not Path(folder(log, CLOSED[0]), CLAIM_NAME).exists()


def test_an_object_store_claim_makes_others_wait_until_it_goes_stale() -> None:
    url = f"memory://claims-{uuid.uuid4().hex}"
    log = PredictionLog(url, flush_interval_s=3600)
    try:
        write_flushes(log, "r", flushes=3)
        claim = f"{folder(log, CLOSED[0])}/{CLAIM_NAME}"
        fresh = {"owner": "other-host", "at": datetime.now(UTC).isoformat()}
        log.fs.pipe_file(claim, json.dumps(fresh).encode())

        assert compact_log(url, now=NOW).busy == (f"churn/{CLOSED[0]}",)

        stale = {"owner": "other-host", "at": (datetime.now(UTC) - timedelta(hours=2)).isoformat()}
        log.fs.pipe_file(claim, json.dumps(stale).encode())
        report = compact_log(url, now=NOW)
        assert [h.hour for h in report.compacted] == [CLOSED[0]] and not log.fs.exists(claim)
    finally:
        log.close()
        log.fs.rm(log.root, recursive=True)


def test_stale_temporary_files_are_removed_and_fresh_ones_kept(tmp_path: Path) -> None:
    log = PredictionLog(str(tmp_path / "logs"), flush_interval_s=3600)
    write_flushes(log, "r", flushes=1)
    log.close()
    old = time.time() - 2 * 3600
    crashed = [Path(folder(log, h), f".part-{uuid.uuid4().hex}.parquet.tmp") for h in CLOSED]
    crashed.append(Path(folder(log, OPEN), ".part-compacted-abc.parquet.tmp"))
    for path in crashed:
        path.write_bytes(b"PAR1 half a file")
        os.utime(path, (old, old))
    writing = Path(folder(log, OPEN), f".part-{uuid.uuid4().hex}.parquet.tmp")
    writing.write_bytes(b"PAR1 being written")

    report = compact_log(log.url, now=NOW)

    assert report.temp_removed == 3
    assert not any(p.exists() for p in crashed) and writing.exists()


def test_the_cli_compacts_and_reports_what_it_did(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    log = PredictionLog(str(logs), flush_interval_s=3600)
    write_flushes(log, "r", flushes=5)
    for i in range(3):
        log.record(rec(f"other-{i}", T0, deployment="fraud"))
        log.flush()
    log.close()
    before = log.read("churn")
    env = {"STEWARD_HOME": str(tmp_path / "home"), "STEWARD_LOGS": str(logs), "COLUMNS": "200"}

    result = subprocess.run(
        [sys.executable, "-m", "modelsteward", "log", "compact", "--deployment", "churn"]
        + ["--older-than", "0", "--keep-replaced", "0", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    # every churn hour of 2024 is long over, the "open" one too, in real time
    assert done["hours_compacted"] == 3 and done["files_before"] == 15
    assert done["files_after"] == 3 and done["rows"] == 60 and done["replaced_removed"] == 15
    assert done["bytes_before"] > 0 and done["bytes_after"] > 0
    assert log.read("churn").equals(before)
    assert len(listed_parts(log.fs, folder(log, CLOSED[0]))) == 1
    assert len(listed_parts(log.fs, folder(log, CLOSED[0], "fraud"))) == 3  # not named

    again = CliRunner().invoke(cli, ["log", "compact"], env=env)
    assert again.exit_code == 0, again.output
    assert "compacted 1 hour(s): 3 files -> 1, 3 rows" in again.output
    assert "fraud" in again.output


def test_the_window_scanner_reads_the_same_inputs_from_a_compacted_hour(
    tmp_path: Path,
) -> None:
    log = PredictionLog(str(tmp_path / "logs"), flush_interval_s=3600)
    write_flushes(log, "r", flushes=20)
    log.close()
    end = T0 + timedelta(hours=3)

    def scanned() -> tuple[int, int, pa.Table, pa.Table]:
        """The scanner's rows (a hash sample of about 50) and ``read_window``'s tables."""
        scope = scope_of(log.url, "churn", now=end, hours=3, last=None, route=None, max_rows=50)
        groups = []
        for group in scope.groups:
            with open_rows(scope, group) as con:
                sql = "SELECT request_id, i, input::VARCHAR AS input, output::VARCHAR AS output"
                groups.append(con.sql(f"{sql} FROM rows").to_arrow_table())
        rows = pa.concat_tables(groups).sort_by([("request_id", "ascending"), ("i", "ascending")])
        window = read_window(log.url, "churn", now=end, hours=3, max_rows=50)
        sides = {"meta": window.meta, "in": window.inputs, "out": window.outputs}
        columns = {f"{side}:{n}": t.column(n) for side, t in sides.items() for n in t.column_names}
        typed = pa.table(columns).sort_by([("meta:request_id", "ascending")])
        return scope.total, len(scope.groups), rows, typed

    before = scanned()
    compact_log(log.url, now=NOW)

    after = scanned()

    assert after[0] == before[0] == 240 and before[1] == after[1] == 3
    assert 0 < after[2].num_rows < 240 and after[2].equals(before[2])
    assert after[3].num_rows == before[3].num_rows > 0 and after[3].equals(before[3])


def test_the_server_compacts_on_its_schedule(steward: Steward) -> None:
    log = PredictionLog(steward.settings.logs_url, flush_interval_s=3600)
    write_flushes(log, "r", flushes=4)
    log.close()
    before = log.read("churn")
    scheduler = background_work(steward)

    assert scheduler.stats()["serving.log-compaction"]["interval_s"] == 600
    assert scheduler.run_due() >= 3  # every hour of 2024 is closed by now
    assert scheduler.stats()["serving.log-compaction"]["failures"] == 0
    assert len(part_files(log.fs, folder(log, CLOSED[0]))) == 1
    assert log.read("churn").equals(before)
