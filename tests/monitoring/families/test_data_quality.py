"""Data quality against a reference profile: every figure, and schema changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelsteward.monitoring.families.data_quality.quality import data_quality
from modelsteward.profiles.dataset import profile_dataset


def reference() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"amount": rng.uniform(0, 100, 1000), "channel": rng.choice(["web", "app"], 1000)}
    )


def test_clean_window_is_ok() -> None:
    result = data_quality(profile_dataset(reference()), reference().iloc[:500])
    assert result.status == "ok"
    assert {c.status for c in result.columns} == {"ok"}
    assert result.schema_changes == []


def test_missing_rate_out_of_range_and_unseen_categories_are_issues() -> None:
    current = pd.DataFrame(
        {
            "amount": [50.0] * 80 + [None] * 10 + [500.0] * 10,
            "channel": ["web"] * 70 + ["phone"] * 30,
        }
    )
    result = data_quality(profile_dataset(reference()), current)
    amount = {c.column: c for c in result.columns}["amount"]
    channel = {c.column: c for c in result.columns}["channel"]
    assert amount.status == "issue" and amount.missing_rate == 0.1
    assert amount.out_of_range == 10 and amount.out_of_range_rate == 10 / 90
    assert (
        channel.status == "issue" and channel.unseen_categories == 1 and channel.unseen_rate == 0.3
    )


def test_type_violations_and_retyped_columns() -> None:
    current = pd.DataFrame({"amount": ["12.5", "abc", "7", "inf"], "channel": ["web"] * 4})
    result = data_quality(profile_dataset(reference()), current)
    amount = {c.column: c for c in result.columns}["amount"]
    assert amount.type_violations == 2  # "abc" does not parse; "inf" is not finite
    assert [(c.column, c.change) for c in result.schema_changes] == [("amount", "retyped")]


def test_added_and_removed_columns_and_duplicates() -> None:
    current = pd.DataFrame({"amount": [1.0, 1.0, 2.0], "extra": [1, 1, 3]})
    result = data_quality(profile_dataset(reference()), pa.Table.from_pandas(current))
    changes = {(c.column, c.change) for c in result.schema_changes}
    assert changes == {("channel", "removed"), ("extra", "added")}
    assert result.duplicate_rows == 1 and result.status == "issue"
    statuses = {c.column: c.status for c in result.columns}
    assert statuses == {"amount": "ok", "channel": "column missing", "extra": "new column"}


def test_empty_window_and_all_missing_column() -> None:
    ref = profile_dataset(reference())
    empty = data_quality(ref, reference().iloc[:0])
    assert empty.status == "not enough data" and empty.duplicate_rate is None
    blank = data_quality(ref, pd.DataFrame({"amount": [np.nan] * 5, "channel": ["web"] * 5}))
    assert {c.column: c.status for c in blank.columns}["amount"] == "all missing"
    assert blank.to_dict()["columns"][0]["missing_rate"] == 1.0


def test_duplicate_rows_agree_across_pandas_arrow_and_parquet_columns(tmp_path: Path) -> None:
    from modelsteward.monitoring.families.data_quality.quality import duplicate_rows
    from modelsteward.monitoring.report.files import ParquetColumns

    frame = pd.DataFrame(
        {"a": [1.0, 1.0, None, None, 2.0, 1.0], "b": ["x", "x", None, None, "x", "y"]}
    )
    frame.to_parquet(tmp_path / "rows.parquet")
    assert duplicate_rows(frame) == 2
    assert duplicate_rows(pa.Table.from_pandas(frame)) == 2
    assert duplicate_rows(ParquetColumns(tmp_path / "rows.parquet")) == 2


def test_quality_rates_carry_their_sampling_band() -> None:
    from modelsteward.monitoring.families.data_quality.family import quality_points
    from modelsteward.monitoring.families.registry import parse_spec

    reference = pa.table({"age": pa.array([30.0, 40.0, 50.0] * 100)})
    small = pa.table(
        {"age": pa.array([35.0, None, 45.0, 41.0, 38.0, 36.0, 44.0, 42.0, 39.0, 40.0])}
    )
    large = pa.table({"age": pa.array(([35.0] * 9 + [None]) * 100)})
    spec = parse_spec({"type": "data_quality"})
    few = {p.metric: p for p in quality_points(spec, profile_dataset(reference), small)}
    many = {p.metric: p for p in quality_points(spec, profile_dataset(reference), large)}
    for points in (few, many):
        missing = points["missing_rate"]
        assert missing.value == pytest.approx(0.1)
        assert missing.low is not None and missing.high is not None
        assert missing.low < 0.1 < missing.high
    assert few["missing_rate"].high - few["missing_rate"].low > 0.3  # 1 in 10 says little
    assert many["missing_rate"].high - many["missing_rate"].low < 0.05
    assert few["duplicate_row_rate"].low is not None


def population(rows: int, seed: int, shift: float = 0.0) -> pa.Table:
    """30 numeric columns drawn from one population (normal, log-normal and uniform)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(30):
        draw = (rng.normal, rng.lognormal, rng.uniform)[i % 3]
        columns[f"x{i}"] = draw(size=rows) + shift
    return pa.table(columns)


def test_clean_traffic_against_a_few_hundred_reference_rows_breaches_no_range() -> None:
    from modelsteward.monitoring.families.data_quality.family import quality_points
    from modelsteward.monitoring.families.registry import parse_spec

    reference = profile_dataset(population(300, seed=1))
    spec = parse_spec({"type": "data_quality"})
    clean = population(2000, seed=2)
    points = [p for p in quality_points(spec, reference, clean) if p.metric == "out_of_range_rate"]
    assert len(points) == 30
    assert [p.column for p in points if p.status != "ok"] == []
    assert data_quality(reference, clean).status == "ok"
    first = points[0]
    assert first.threshold == pytest.approx(0.01 + 0.0219, abs=5e-4)  # 1% + Beta(2, 299) q99
    assert "300 reference values" in first.detail["threshold_basis"]
    assert max(p.value or 0.0 for p in points) > 0.01  # the old 1% limit would have alarmed


def test_a_real_shift_still_breaches_out_of_range_against_a_small_reference() -> None:
    from modelsteward.monitoring.families.data_quality.family import quality_points
    from modelsteward.monitoring.families.registry import parse_spec

    reference = profile_dataset(population(300, seed=1))
    spec = parse_spec({"type": "data_quality"})
    shifted = population(2000, seed=2, shift=3.0)
    points = [
        p for p in quality_points(spec, reference, shifted) if p.metric == "out_of_range_rate"
    ]
    moved = {f"x{i}" for i in range(30) if i % 3 != 1}  # normal and uniform: 3 is far
    assert moved <= {p.column for p in points if p.status == "breached"}
    amount = {c.column: c for c in data_quality(reference, shifted).columns}["x0"]
    assert amount.status == "issue" and "limit 3.2%" in str(amount.issues[0])


def test_a_threshold_set_on_the_monitor_is_taken_as_written() -> None:
    from modelsteward.monitoring.families.data_quality.family import quality_points
    from modelsteward.monitoring.families.registry import parse_spec

    reference = profile_dataset(population(300, seed=1))
    spec = parse_spec({"type": "data_quality", "thresholds": {"out_of_range_rate": {"max": 0.0}}})
    points = [
        p
        for p in quality_points(spec, reference, population(2000, seed=2))
        if p.metric == "out_of_range_rate"
    ]
    assert {p.threshold for p in points} == {0.0}
    assert all("threshold_basis" not in p.detail for p in points)
    assert "breached" in {p.status for p in points}
