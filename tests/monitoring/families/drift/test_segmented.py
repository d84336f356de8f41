"""Segmented drift compares each segment with the same segment of its reference: clean
traffic whose features differ by segment raises nothing, a shift inside one segment is
caught there, and the segmenting column is never tested within its own segments."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.monitoring.test_multivariate import serve

from modelsteward.context import Steward

pytestmark = pytest.mark.usefixtures("ungoverned")

SPEC = {"type": "data_drift", "window": {"last": 3300}, "segment_by": "load", "min_rows": 20}


def by_load(n: int, seed: int, shift_in_load_2: float = 0.0) -> pd.DataFrame:
    """Three loads whose pressure differs by load (10 apart), as a real segment does."""
    rng = np.random.default_rng(seed)
    load = rng.integers(0, 3, n)
    pressure = 100 + 5 * rng.normal(size=n) + 10 * load + shift_in_load_2 * (load == 2)
    return pd.DataFrame(
        {"pressure": pressure, "temperature": 60 + 3 * rng.normal(size=n), "load": load}
    )


def drift_scores(run: dict) -> dict[tuple[str, str], str]:
    return {
        (p["segment"], p["column"]): p["status"]
        for p in run["points"]
        if p["metric"] == "drift_score"
    }


def test_segments_are_compared_with_their_own_reference_not_the_whole_population(
    api: httpx.Client, steward: Steward
) -> None:
    served = serve(api, steward, training=by_load(3000, seed=21))
    monitor = served.monitor("segment-drift", SPEC)

    served.log(by_load(3300, seed=22))
    first = served.run(monitor)
    assert first["status"] == "ok", drift_scores(first)
    assert {p["segment"] for p in first["points"]} == {""}  # segments captured, not judged
    assert "segments captured" in first["detail"]["segments"]

    served.log(by_load(3300, seed=23))
    clean = served.run(monitor)
    scores = drift_scores(clean)
    segments = {segment for segment, _ in scores} - {""}
    assert segments == {"load=0", "load=1", "load=2"}
    assert {column for segment, column in scores if segment} == {"pressure", "temperature"}
    assert clean["status"] == "ok" and set(scores.values()) == {"ok"}
    assert served.events == []

    served.log(by_load(3300, seed=24, shift_in_load_2=5.0))
    shifted = drift_scores(served.run(monitor))
    assert shifted[("load=2", "pressure")] == "breached"
    assert shifted[("load=0", "pressure")] == "ok" and shifted[("load=1", "pressure")] == "ok"
    breached = {(e.payload["segment"], e.payload["column"]) for e in served.events}
    assert ("load=2", "pressure") in breached
    assert not {("load=0", "pressure"), ("load=1", "pressure")} & breached


def test_a_pinned_baseline_keeps_each_segment_of_its_window(
    api: httpx.Client, steward: Steward
) -> None:
    served = serve(api, steward, training=by_load(3000, seed=21))
    monitor = served.monitor("segment-drift", SPEC)
    served.log(by_load(3300, seed=22, shift_in_load_2=5.0))
    pinned = api.put(f"/api/v1/monitors/{monitor}/baseline", json={"window": {"last": 3300}})
    assert pinned.status_code == 200, pinned.text

    served.log(by_load(3300, seed=23, shift_in_load_2=5.0))  # the new normal of load 2
    scores = drift_scores(served.run(monitor))
    assert {s for s, _ in scores} == {"", "load=0", "load=1", "load=2"}
    assert scores[("load=2", "pressure")] == "ok"
