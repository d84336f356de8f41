"""The training-data profile the registry stores with a version fits its document limit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelsteward.profiles.dataset import DatasetProfile
from modelsteward.registry.profile import profile_dataframe


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
