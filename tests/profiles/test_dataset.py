"""Profiles: compact, exact where they claim to be, round-trip through JSON, read old shapes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift import DriftConfig, compare
from modelsteward.profiles.dataset import DatasetProfile, profile_dataset


def sample(n: int = 10_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.lognormal(10, 1, size=n),
            "age": rng.integers(18, 90, size=n),
            "region": rng.choice(["north", "south", "east"], size=n),
            "member": rng.random(n) < 0.3,
        }
    )


def test_numeric_profile_holds_exact_counts_at_its_sketch_edges() -> None:
    frame = sample()
    column = profile_dataset(frame).columns["income"]
    values = np.sort(frame.income.to_numpy())
    assert column.kind == "numeric" and column.count == 10_000 and column.missing == 0
    assert column.min == values[0] and column.max == values[-1]
    assert column.mean == pytest.approx(values.mean()) and column.std == pytest.approx(values.std())
    edges = np.array(column.sketch_edges)
    assert np.array_equal(np.searchsorted(values, edges, "right"), column.sketch_cumulative)
    assert len(edges) <= 501 and sum(column.histogram_counts) == 10_000
    assert column.quantiles["0.5"] == pytest.approx(np.median(values))


def test_categorical_profile_counts_values_as_text() -> None:
    profile = profile_dataset(sample())
    assert profile.columns["region"].kind == "categorical"
    assert sum(profile.columns["region"].frequencies.values()) == 10_000
    assert set(profile.columns["member"].frequencies) == {"True", "False"}
    assert profile.columns["age"].kind == "numeric"


def test_profile_round_trips_through_json() -> None:
    profile = profile_dataset(sample())
    again = DatasetProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again == profile


def test_arrow_and_pandas_give_the_same_profile() -> None:
    frame = sample()
    assert profile_dataset(pa.Table.from_pandas(frame)) == profile_dataset(frame)


def test_missing_and_infinite_values_are_counted_apart() -> None:
    frame = pd.DataFrame(
        {"x": [1.0, np.nan, np.inf, -np.inf, 2.0], "c": ["a", None, "b", "a", None]}
    )
    profile = profile_dataset(frame)
    assert (
        profile.columns["x"].count,
        profile.columns["x"].missing,
        profile.columns["x"].invalid,
    ) == (2, 1, 2)
    assert (profile.columns["c"].count, profile.columns["c"].missing) == (3, 2)


def test_categories_beyond_the_cap_are_summed_in_other() -> None:
    frame = pd.DataFrame({"id": [f"user-{i % 50}" for i in range(1000)]})
    column = profile_dataset(frame, category_cap=10).columns["id"]
    assert len(column.frequencies) == 10 and column.other == 800 and column.distinct == 50


def test_unknown_columns_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="no such columns"):
        profile_dataset(sample(), columns=["nope"])


def old_shape() -> dict:
    """What versions registered before format 2 stored (registry/profile.py, first shape)."""
    values = np.clip(np.random.default_rng(5).normal(size=1000), -3, 3)
    counts, edges = np.histogram(values, bins=20)
    return {
        "rows": 1000,
        "columns": {
            "x": {
                "kind": "numeric",
                "count": 1000,
                "nulls": 0,
                "mean": float(values.mean()),
                "std": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
                "quantiles": {"0.5": float(np.median(values))},
                "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
            },
            "c": {
                "kind": "categorical",
                "count": 1000,
                "distinct": 3,
                "top": {"a": 500, "b": 300, "c": 200},
                "nulls": 0,
            },
        },
    }


def test_old_shape_profiles_are_still_read_and_compared() -> None:
    profile = DatasetProfile.from_dict(old_shape())
    assert profile.columns["x"].resolution == 20
    rng = np.random.default_rng(2)
    same = pd.DataFrame(
        {"x": rng.normal(size=2000), "c": rng.choice(list("abc"), 2000, p=[0.5, 0.3, 0.2])}
    )
    moved = same.assign(x=same.x + 1.0, c="c")
    assert compare(profile, same).dataset_drift is False
    result = compare(profile, moved)
    assert result.by_column["x"].status == "drift" and result.by_column["c"].status == "drift"
    ks = compare(profile, same, DriftConfig(numeric_method="ks")).by_column["x"]
    assert ks.statistic is not None and ks.statistic < 0.06  # coarser: 20 bins


def test_malformed_profile_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        DatasetProfile.from_dict({"columns": {"x": {"kind": "weird"}}})
    with pytest.raises(InvalidInput):
        DatasetProfile.from_dict({"rows": 3})
