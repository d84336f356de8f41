"""Outliers per request: the Mahalanobis outlier rate rises when far-away rows arrive, stays
near the reference's rate otherwise, and names the farthest requests.

End-to-end tests reuse the sensor model of ``test_multivariate``: registered through the
SDK on a live server, predictions written into the prediction log, the monitor created
and run through the API.
"""

from __future__ import annotations

import uuid

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.monitoring.test_multivariate import sensors, serve

from modelsteward.context import Steward
from modelsteward.monitoring.families.outliers import OutliersSpec, judge
from modelsteward.monitoring.multivariate import fit_baseline

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

SPEC = OutliersSpec()


def far_rows(frame: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` with ``share`` of its rows moved far away (pressure +40, i.e. 8 sd)."""
    rng = np.random.default_rng(seed)
    moved = np.sort(rng.choice(len(frame), int(share * len(frame)), replace=False))
    frame = frame.copy()
    frame.loc[moved, "pressure"] += 40
    return frame, moved


def ids_for(n: int) -> list[str]:
    return [f"req-{i:05d}" for i in range(n)]


def test_five_percent_of_far_rows_raise_the_outlier_rate_past_its_threshold() -> None:
    baseline = fit_baseline(sensors(3000, 0.8, seed=1))
    window, moved = far_rows(sensors(1000, 0.8, seed=2), 0.05, seed=3)
    (point,) = judge(SPEC, baseline, window, ids_for(1000))
    assert point.status == "breached" and point.threshold == 0.02
    assert 0.05 <= point.value <= 0.06 and point.low < 0.05 < point.high
    assert point.detail["outliers"] >= 50
    top = point.detail["top"]
    assert len(top) == 5 and {t["request_id"] for t in top} <= {f"req-{i:05d}" for i in moved}
    assert all(t["column"] == "pressure" for t in top)
    assert top[0]["distance"] >= top[-1]["distance"] > point.detail["distance_threshold"]


def test_without_far_rows_the_rate_stays_near_the_reference_rate() -> None:
    baseline = fit_baseline(sensors(3000, 0.8, seed=4))
    assert 0.0 < baseline.reference_outlier_rate <= 0.006
    rates = []
    for seed in range(20):
        (point,) = judge(SPEC, baseline, sensors(1000, 0.8, seed=100 + seed), ids_for(1000))
        assert point.status == "ok"
        rates.append(point.value)
    assert abs(float(np.mean(rates)) - baseline.reference_outlier_rate) < 0.004


def test_an_unusual_combination_of_ordinary_values_is_an_outlier() -> None:
    baseline = fit_baseline(sensors(3000, 0.9, seed=5))
    # Each value lies within two standard deviations, but high pressure with low
    # temperature never happens when the two move together.
    odd = pd.DataFrame({"pressure": [109.0], "temperature": [54.5], "load": [5]})
    usual = pd.DataFrame({"pressure": [109.0], "temperature": [65.0], "load": [5]})
    (point,) = judge(OutliersSpec(min_rows=1), baseline, odd, ["odd"])
    assert point.value == 1.0 and point.detail["top"][0]["request_id"] == "odd"
    (point,) = judge(OutliersSpec(min_rows=1), baseline, usual, ["usual"])
    assert point.value == 0.0 and point.detail["top"] == []


def test_a_few_far_reference_rows_move_neither_the_centre_nor_the_cut_off() -> None:
    clean = sensors(2000, 0.8, seed=6)
    dirty, _ = far_rows(clean, 0.003, seed=7)
    robust, plain = fit_baseline(dirty), fit_baseline(clean)
    assert np.allclose(robust.geometry.location, plain.geometry.location, atol=0.01)
    # a plain covariance would grow its smallest variance by half (0.21 -> 0.31)
    assert np.allclose(robust.geometry.variances, plain.geometry.variances, rtol=0.03)
    assert robust.distance_threshold < 1.2 * plain.distance_threshold
    window, _ = far_rows(sensors(1000, 0.8, seed=8), 0.05, seed=9)
    (point,) = judge(SPEC, robust, window, ids_for(1000))
    assert point.status == "breached"


def test_gaps_in_the_window_are_filled_and_reported() -> None:
    baseline = fit_baseline(sensors(1000, 0.8, seed=10))
    window = sensors(200, 0.8, seed=11).astype(float)
    window.loc[:4, "temperature"] = np.nan
    window.loc[5, "pressure"] = np.inf
    (point,) = judge(SPEC, baseline, window, ids_for(200))
    assert point.status == "ok" and point.value is not None
    assert (
        point.detail["gaps"] == "5 missing and 1 infinite cells were read as the reference median"
    )


def test_an_empty_table_is_not_enough_data() -> None:
    baseline = fit_baseline(sensors(1000, 0.8, seed=12))
    (point,) = judge(SPEC, baseline, sensors(0, 0.8, seed=13), [])
    assert point.status == "not enough data" and point.value is None


# -- end to end ----------------------------------------------------------------------------


def test_injected_requests_breach_and_are_named_end_to_end(
    api: httpx.Client, steward: Steward
) -> None:
    served = serve(api, steward, training=sensors(2000, 0.8, seed=21))
    monitor = served.monitor("far-requests", {"type": "outliers", "window": {"last": 1000}})
    served.log(sensors(1000, 0.8, seed=22))
    calm = served.run(monitor)
    assert calm["status"] == "ok" and calm["detail"]["baseline"] == "training data of v1"
    (point,) = calm["points"]
    assert point["metric"] == "outlier_rate" and point["value"] <= 0.02
    assert point["low"] <= point["value"] <= point["high"]

    window, moved = far_rows(sensors(1000, 0.8, seed=23), 0.05, seed=24)
    ids = [uuid.uuid4().hex for _ in range(1000)]
    served.log(window, ids)
    shifted = served.run(monitor)
    assert shifted["status"] == "breached" and "metric.breached" in shifted["events"]
    (point,) = shifted["points"]
    assert point["value"] >= 0.05 and point["threshold"] == 0.02
    injected = {ids[i] for i in moved}
    assert {t["request_id"] for t in point["detail"]["top"]} <= injected
    assert [e.payload["metric"] for e in served.events] == ["outlier_rate"]


def test_without_training_data_the_first_window_becomes_the_baseline(
    api: httpx.Client, steward: Steward
) -> None:
    served = serve(api, steward, training=None)
    monitor = served.monitor("far-requests", {"type": "outliers", "window": {"last": 800}})
    served.log(sensors(800, 0.8, seed=31))
    first = served.run(monitor)
    assert first["status"] == "baseline captured" and first["points"] == []
    kept = api.get(f"/api/v1/monitors/{monitor}").json()["baseline"]
    assert kept["source"] == "first window seen" and kept["version"] == 1
    assert kept["baseline"]["columns"] == ["pressure", "temperature", "load"]

    window, _ = far_rows(sensors(800, 0.8, seed=32), 0.05, seed=33)
    served.log(window)
    later = served.run(monitor)
    assert later["detail"]["baseline"] == "first window seen"
    assert later["status"] == "breached"


def test_training_data_holding_the_target_is_judged_on_the_inputs_only(
    api: httpx.Client, steward: Steward
) -> None:
    training = sensors(2000, 0.8, seed=21)
    training["failed"] = (training.pressure > 105).astype(float)
    served = serve(api, steward, training=training)
    monitor = served.monitor("far-requests", {"type": "outliers", "window": {"last": 300}})
    served.log(sensors(300, 0.8, seed=41))
    result = served.run(monitor)
    assert result["status"] == "ok"
    assert result["detail"]["columns"] == ["pressure", "temperature", "load"]
    assert "not numeric inputs of v1, left out: failed" in result["detail"]["note"]
    assert "refitted on the baseline's 500-row sample" in result["detail"]["note"]


def test_bad_windows_get_a_clear_status_end_to_end(api: httpx.Client, steward: Steward) -> None:
    served = serve(api, steward, training=sensors(2000, 0.8, seed=21))
    outliers = served.monitor("far-requests", {"type": "outliers", "window": {"last": 500}})
    joint = served.monitor("joint", {"type": "multivariate_drift", "window": {"last": 500}})
    for monitor in (outliers, joint):
        empty = served.run(monitor)
        assert empty["status"] == "not enough data" and empty["points"] == []
        assert empty["error"] == "" and "0 rows in the window" in empty["detail"]["note"]

    served.log(sensors(1, 0.8, seed=51))
    one = served.run(outliers)
    assert one["status"] == "not enough data" and "at least 100 needed" in one["detail"]["note"]

    gappy = sensors(500, 0.8, seed=52).astype(float).assign(temperature=np.nan)
    served.log(gappy)
    for monitor in (outliers, joint):
        result = served.run(monitor)
        assert result["error"] == "" and result["status"] in ("ok", "breached")
        assert (
            "columns all missing in the window, left out: temperature" in (result["detail"]["note"])
        )
        assert result["detail"]["columns"] == ["pressure", "load"]

    served.log(sensors(500, 0.8, seed=53)[["pressure", "temperature"]])
    for monitor in (outliers, joint):
        result = served.run(monitor)
        assert result["error"] == "" and result["status"] in ("ok", "breached")
        assert "columns missing from the window, left out: load" in result["detail"]["note"]


def test_segments_get_their_own_outlier_rate(api: httpx.Client, steward: Steward) -> None:
    served = serve(api, steward, training=sensors(2000, 0.8, seed=21))
    spec = {"type": "outliers", "window": {"last": 600}, "segment_by": "load", "min_rows": 20}
    monitor = served.monitor("far-requests", spec)
    window = sensors(600, 0.8, seed=61)
    far = window.index[window.load == 3]
    window.loc[far, "pressure"] += 40
    served.log(window)
    points = {p["segment"]: p for p in served.run(monitor)["points"]}
    assert len(points) == 12  # the whole window and each of the 11 loads
    assert points["load=3"]["value"] == 1.0 and points["load=3"]["status"] == "breached"
    assert points["load=4"]["status"] == "ok"
