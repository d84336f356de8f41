"""A window summarised in parts (one task per hour of part files, here or on a Dask cluster)
drifts exactly as the monitor computes it on one machine: same rows, types, segments,
verdicts and counts; statistics equal (Wasserstein to floating-point rounding)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.helpers import settings_for

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift import DriftResult, compare
from modelsteward.monitoring.drift.window import WindowState, summarise_batches
from modelsteward.monitoring.families.drift.distributed import (
    InProcess,
    OnDask,
    WindowDrift,
    dask_executor,
    dask_min_rows,
    window_drift,
)
from modelsteward.monitoring.families.drift.segmented import side
from modelsteward.monitoring.families.reference import compared
from modelsteward.monitoring.families.registry import parse_spec
from modelsteward.monitoring.specs import DriftSpec
from modelsteward.monitoring.windows import read_window
from modelsteward.monitoring.windows.segments import dominant_version, segments
from modelsteward.profiles.dataset import DatasetProfile, profile_dataset
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
DEPLOYMENT = "churn"
HOURS = 6


def reference_frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, 3000),
            "income": rng.normal(50, 10, 3000),
            "plan": rng.choice(["basic", "plus", "pro"], 3000, p=[0.5, 0.3, 0.2]),
            "score": rng.uniform(0, 1, 3000),
        }
    )


def reference() -> DatasetProfile:
    return profile_dataset(reference_frame())


def plan_references() -> dict[str, DatasetProfile]:
    """Each plan's own reference, without the plan column (the window has a fourth plan)."""
    frame = reference_frame()
    return {
        f"plan={plan}": profile_dataset(part.drop(columns="plan"))
        for plan, part in frame.groupby("plan")
    }


def write_hours(root: str) -> None:
    """Six hours, two part files each; income drifts hour by hour; ``score`` holds a few
    text values in hour 2 and ``tenure`` (not in the reference) in hour 3, so the whole
    window types them as text though most parts hold only numbers; ``channel`` appears
    late; version 2 serves a third of the requests; some requests failed."""
    rng = np.random.default_rng(5)
    count = 0
    for hour in range(HOURS):
        for _part in range(2):
            with PredictionLog(root) as log:
                for _ in range(30):
                    count += 1
                    rows = []
                    for _ in range(int(rng.integers(1, 12))):
                        row: dict[str, Any] = {
                            "age": int(rng.integers(18, 90)),
                            "income": float(rng.normal(50 + 4 * hour, 10)),
                            "plan": str(rng.choice(["basic", "plus", "pro", "gold"])),
                            "score": float(rng.uniform(0, 1)) if rng.random() > 0.05 else None,
                        }
                        if hour == 2 and count % 17 == 0:
                            row["score"] = "n/a"
                        if hour < 2:
                            row["channel"] = str(rng.choice(["web", "app"]))
                        if hour >= 3:
                            row["tenure"] = int(rng.integers(0, 30))
                            if hour == 3 and count % 13 == 0:
                                row["tenure"] = "unknown"
                        rows.append(row)
                    minutes = int(rng.integers(0, 60))
                    log.record(
                        PredictionRecord(
                            request_id=f"req-{count:05d}",
                            at=NOW - timedelta(hours=hour, minutes=minutes, seconds=count % 7),
                            deployment=DEPLOYMENT,
                            model="churn",
                            version=2 if count % 3 == 0 else 1,
                            route="champion",
                            inputs=rows,
                            outputs=[float(rng.uniform()) for _ in rows],
                            latency_ms=1.0,
                            status=200 if count % 41 else 500,
                        )
                    )


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    settings = settings_for(home)
    write_hours(settings.logs_url)
    return settings


@pytest.fixture(scope="module")
def cluster() -> Iterator[OnDask]:
    """Two in-process workers: the same scheduling and merging as a real cluster."""
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as local,
        distributed.Client(local) as client,
    ):
        yield OnDask(client)


def on_one_machine(settings: Settings, spec: DriftSpec, profile: DatasetProfile) -> WindowDrift:
    """What the runner computes: the window read whole, then each segment compared with
    its own reference (``plan_references``), without the segmenting column."""
    window = read_window(
        settings.logs_url,
        DEPLOYMENT,
        now=NOW,
        hours=spec.window.hours,
        last=spec.window.last,
        route=spec.route,
        max_rows=spec.max_rows,
    )
    results = []
    own = plan_references()
    for segment, part in segments(window, spec.segment_by):
        if segment and segment not in own:
            continue
        data = side(spec, part) if segment else compared(spec, part)
        results.append((segment, compare(own.get(segment, profile), data, spec.drift_config())))
    return WindowDrift(
        window.rows,
        window.start,
        dominant_version(window),
        {"sampled": window.sampled, "total_rows": window.total_rows},
        results,
    )


def in_parts(settings: Settings, spec: DriftSpec, profile: DatasetProfile, executor: Any) -> Any:
    seen: list[int | None] = []

    def reference_for(version: int | None) -> tuple[DatasetProfile, str]:
        seen.append(version)
        return profile, f"training data of v{version}"

    found = window_drift(
        settings,
        DEPLOYMENT,
        spec,
        NOW,
        reference_for,
        executor=executor,
        min_rows=0,
        segments_for=lambda version: plan_references(),
    )
    assert found is not None
    assert seen == [found.version]
    return found


def assert_same(found: WindowDrift, expected: WindowDrift) -> None:
    assert (found.rows, found.start, found.version) == (
        expected.rows,
        expected.start,
        expected.version,
    )
    assert found.detail["sampled"] == expected.detail["sampled"]
    assert found.detail["total_rows"] == expected.detail["total_rows"]
    assert [s for s, _ in found.results] == [s for s, _ in expected.results]
    for (segment, got), (_, want) in zip(found.results, expected.results, strict=True):
        assert_same_drift(got, want, segment)


def assert_same_drift(got: DriftResult, want: DriftResult, segment: str) -> None:
    assert (got.dataset_drift, got.drift_share, got.drifted_columns) == (
        want.dataset_drift,
        want.drift_share,
        want.drifted_columns,
    ), segment
    for a, b in zip(got.columns, want.columns, strict=True):
        where = f"{segment}/{a.column}"
        same = (a.column, a.kind, a.method, a.status, a.drifted, a.reference_rows, a.current_rows)
        assert same == (
            b.column,
            b.kind,
            b.method,
            b.status,
            b.drifted,
            b.reference_rows,
            b.current_rows,
        ), where
        if a.method == "wasserstein" and a.statistic is not None:  # sums added in a new order
            assert math.isclose(a.statistic, b.statistic or 0.0, rel_tol=1e-9), where
        else:  # counts at the reference's bin edges: bit for bit
            assert (a.statistic, a.p_value, a.low, a.high) == (
                b.statistic,
                b.p_value,
                b.low,
                b.high,
            )


DATA_DRIFT = {
    "type": "data_drift",
    "window": {"hours": HOURS},
    "segment_by": "plan",
    "methods": {"age": "ks", "plan": "psi"},
}


def test_a_multi_hour_window_drifts_the_same_on_a_cluster_as_on_one_machine(
    logged: Settings, cluster: OnDask
) -> None:
    spec = parse_spec(DATA_DRIFT)
    assert isinstance(spec, DriftSpec)
    profile = reference()
    expected = on_one_machine(logged, spec, profile)
    by_column = {c.column: c for c in expected.results[0][1].columns}
    assert by_column["income"].status == "drift"  # the data really drifted
    window = read_window(logged.logs_url, DEPLOYMENT, now=NOW, hours=HOURS)
    assert window.inputs.schema.field("score").type == "string"  # one "n/a" makes it text
    assert by_column["channel"].status == "new column"
    assert (by_column["tenure"].status, by_column["tenure"].kind) == ("new column", "categorical")
    assert len(expected.results) == 4  # the window and the three plans its reference has
    started = time.perf_counter()
    found = in_parts(logged, spec, profile, cluster)
    assert found.detail["computed_on"] == "dask"
    assert found.detail["tasks"] == HOURS + 1  # one per hour folder the window touches
    assert time.perf_counter() - started < 10
    assert found.detail["segments_without_reference"] == ["plan=gold"]
    assert all("plan" not in {c.column for c in r.columns} for s, r in found.results if s)
    assert_same(found, expected)
    assert_same(in_parts(logged, spec, profile, InProcess()), expected)


def test_prediction_drift_over_the_last_n_predictions_matches_too(
    logged: Settings, cluster: OnDask
) -> None:
    spec = parse_spec({"type": "prediction_drift", "window": {"last": 700}})
    assert isinstance(spec, DriftSpec)
    outputs = profile_dataset(
        pd.DataFrame({"prediction": np.random.default_rng(2).uniform(size=900)})
    )
    expected = on_one_machine(logged, spec, outputs)
    assert 700 <= expected.rows < 800 and expected.start is not None
    assert_same(in_parts(logged, spec, outputs, cluster), expected)


def test_a_sampled_window_keeps_the_same_rows(logged: Settings, cluster: OnDask) -> None:
    spec = parse_spec({**DATA_DRIFT, "max_rows": 500})
    assert isinstance(spec, DriftSpec)
    profile = reference()
    expected = on_one_machine(logged, spec, profile)
    assert expected.detail["sampled"] and expected.rows < expected.detail["total_rows"]
    assert_same(in_parts(logged, spec, profile, cluster), expected)


def test_too_few_rows_are_reported_without_asking_for_a_reference(logged: Settings) -> None:
    spec = parse_spec({**DATA_DRIFT, "window": {"hours": 0.01}})
    assert isinstance(spec, DriftSpec)
    found = window_drift(
        logged,
        DEPLOYMENT,
        spec,
        NOW,
        lambda v: pytest.fail("no reference needed"),
        executor=InProcess(),
        min_rows=0,
    )
    assert found is not None and found.rows < spec.min_rows and found.results == []


def test_the_single_machine_path_runs_unless_dask_is_set_and_the_window_is_big(
    logged: Settings, tmp_path: Path
) -> None:
    spec = parse_spec(DATA_DRIFT)
    assert isinstance(spec, DriftSpec)
    profile = reference()

    def reference_for(version: int | None) -> tuple[DatasetProfile, str]:
        return profile, "training data"

    assert logged.dask_address is None
    assert window_drift(logged, DEPLOYMENT, spec, NOW, reference_for, min_rows=0) is None
    addressed = settings_for(
        tmp_path, STEWARD_LOGS=logged.logs_url, STEWARD_DASK_ADDRESS="tcp://127.0.0.1:1"
    )
    assert addressed.dask_address == "tcp://127.0.0.1:1"
    # under the threshold nothing connects (port 1 would refuse)
    assert window_drift(addressed, DEPLOYMENT, spec, NOW, reference_for) is None
    # no reference yet: the single-machine path captures one from the window
    nothing = window_drift(
        logged, DEPLOYMENT, spec, NOW, lambda v: (None, ""), executor=InProcess(), min_rows=0
    )
    assert nothing is None


def test_an_unreachable_scheduler_leaves_the_window_to_this_machine(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("dask.distributed")
    with dask_executor("tcp://127.0.0.1:1", timeout_s=0.5) as executor:
        assert executor is None
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in caplog.text


def test_the_threshold_setting() -> None:
    assert dask_min_rows({}) == 5_000_000
    assert dask_min_rows({"STEWARD_DASK_MIN_ROWS": "20000"}) == 20_000
    for bad in ("-1", "lots", "1e6"):
        with pytest.raises(InvalidInput, match="STEWARD_DASK_MIN_ROWS"):
            dask_min_rows({"STEWARD_DASK_MIN_ROWS": bad})


def test_window_states_merge_to_the_single_pass_state() -> None:
    rng = np.random.default_rng(9)
    profile = reference()
    frame = pd.DataFrame(
        {
            "age": rng.integers(10, 95, 5000).astype(float),
            "income": np.where(rng.random(5000) < 0.1, np.nan, rng.normal(60, 12, 5000)),
            "plan": rng.choice(["basic", "plus", "new"], 5000),
        }
    )
    whole = summarise_batches(profile, [frame])
    merged = WindowState()
    for start in range(0, 5000, 1300):
        merged.merge(summarise_batches(profile, [frame.iloc[start : start + 1300]]))
    assert (merged.rows, merged.kinds) == (whole.rows, whole.kinds)
    for name, column in whole.columns.items():
        part = merged.columns[name]
        assert (part.rows, part.missing, part.invalid, part.counts) == (
            column.rows,
            column.missing,
            column.invalid,
            column.counts,
        )
        if column.numeric is not None and part.numeric is not None:
            np.testing.assert_array_equal(part.numeric.le, column.numeric.le)
            assert (part.numeric.n, part.numeric.below, part.numeric.low, part.numeric.high) == (
                column.numeric.n,
                column.numeric.below,
                column.numeric.low,
                column.numeric.high,
            )
            np.testing.assert_allclose(part.numeric.sums, column.numeric.sums, rtol=1e-12)
            assert math.isclose(part.numeric.std, column.numeric.std, rel_tol=1e-12)
    age = profile.columns["age"]
    moved = replace(age, sketch_edges=tuple(e + 1 for e in age.sketch_edges))
    with pytest.raises(ValueError, match="different sketch edges"):
        merged.merge(summarise_batches(DatasetProfile(age.count, {"age": moved}), [frame]))
