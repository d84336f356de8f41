"""The training-data profile the registry stores with a version fits its document limit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelsteward.monitoring.drift import DriftConfig, compare
from modelsteward.profiles.dataset import DatasetProfile
from modelsteward.registry.profile import profile_dataframe, resolution_for


def test_registry_profile_is_the_new_shape_and_fits_the_document_limit() -> None:
    rng = np.random.default_rng(1)
    wide = pd.DataFrame({f"x{i}": rng.normal(size=50_000) for i in range(60)})
    for i in range(20):
        wide[f"c{i}"] = rng.choice([f"v{j}" for j in range(3000)], size=50_000)
    stored = profile_dataframe(wide)
    assert stored["format"] == "modelsteward.profile/2"
    assert len(json.dumps(stored)) < 256 * 1024
    assert stored["columns"]["x0"]["quantiles"]["0.5"] == pytest.approx(
        np.median(wide.x0), abs=0.05
    )
    assert DatasetProfile.from_dict(stored).columns["c3"].other > 0


# What docs/drift.md documents: the stored sketch's bins by table width, and KS in profile
# mode never above the exact statistic and at most 1/bins below it.
DOCUMENTED_BINS = {10: 395, 30: 110, 100: 20}


def numeric_table(columns: int, rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {}
    for i in range(columns):
        moved = shift * (i % 4) / 3  # a quarter unmoved, the others moved up to ``shift``
        if i % 2:
            data[f"x{i:03d}"] = rng.normal(50 + 10 * moved, 10, rows)
        else:
            data[f"x{i:03d}"] = rng.lognormal(3 + moved, 0.8, rows)
    return pd.DataFrame(data)


@pytest.mark.parametrize("columns", sorted(DOCUMENTED_BINS))
def test_an_all_numeric_table_gives_the_whole_budget_to_its_sketches(columns: int) -> None:
    reference = numeric_table(columns, 20_000, seed=columns)
    stored = profile_dataframe(reference)
    assert len(json.dumps(stored)) < 256 * 1024
    profile = DatasetProfile.from_dict(stored)
    bins = {c.resolution for c in profile.columns.values()}
    assert bins == {DOCUMENTED_BINS[columns]}
    assert resolution_for(reference)[0] == DOCUMENTED_BINS[columns]


@pytest.mark.parametrize("columns", sorted(DOCUMENTED_BINS))
def test_monitor_ks_is_within_the_documented_tolerance_of_scipys_exact_statistic(
    columns: int,
) -> None:
    from scipy.stats import ks_2samp

    reference = numeric_table(columns, 20_000, seed=columns)
    current = numeric_table(columns, 5_000, seed=columns + 1, shift=0.15)
    profile = DatasetProfile.from_dict(profile_dataframe(reference))
    monitored = compare(profile, current, DriftConfig(numeric_method="ks")).by_column
    tolerance = 1 / DOCUMENTED_BINS[columns]
    gaps = []
    for name in reference.columns:
        exact = float(ks_2samp(reference[name], current[name]).statistic)
        sketched = monitored[name].statistic
        assert sketched is not None
        assert exact - tolerance <= sketched <= exact + 1e-12, name
        gaps.append(exact - sketched)
    assert max(gaps) > 0  # the sketch is coarser than the data: the bound is what holds


@pytest.mark.parametrize("columns", sorted(DOCUMENTED_BINS))
def test_the_documented_ks_tolerance_holds_in_the_worst_case(columns: int) -> None:
    """A current window piled just above one sketch edge: the exact statistic is read there,
    the sketch sees it only at the next edge, a bin of reference mass later."""
    from scipy.stats import ks_2samp

    reference = numeric_table(columns, 20_000, seed=columns)
    profile = DatasetProfile.from_dict(profile_dataframe(reference))
    edges = profile.columns["x000"].sketch_edges
    current = numeric_table(columns, 5_000, seed=columns + 1)
    current["x000"] = np.nextafter(edges[len(edges) // 4], np.inf)
    sketched = compare(profile, current, DriftConfig(numeric_method="ks")).by_column["x000"]
    exact = float(ks_2samp(reference["x000"], current["x000"]).statistic)
    assert sketched.statistic is not None
    gap = exact - sketched.statistic
    bins = DOCUMENTED_BINS[columns]
    assert 0.5 / bins < gap <= 1 / bins + 1 / len(reference)


def test_categorical_columns_take_what_their_values_need_and_numerics_the_rest() -> None:
    rng = np.random.default_rng(2)
    frame = numeric_table(30, 2_000, seed=2)
    frame["plan"] = rng.choice(["basic", "plus", "pro"], 2_000)
    bins, cap = resolution_for(frame)
    assert bins >= 105  # three categories cost almost nothing
    assert cap >= 3
