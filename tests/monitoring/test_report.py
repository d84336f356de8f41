"""Reports: one self-contained HTML file with every column and a drawing per feature; JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from modelsteward.monitoring.report import build_report
from modelsteward.monitoring.report.files import open_data
from modelsteward.profiles.dataset import profile_dataset


def data(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n),
            "age": rng.integers(18, 90, n),
            "channel": rng.choice(["web", "app", "store"], n),
            "flag <b>": rng.random(n) < 0.5,
        }
    )
    cur = ref.sample(frac=1.0, random_state=1).reset_index(drop=True)
    cur["amount"] = cur["amount"] * 1.8
    cur["channel"] = rng.choice(["web", "phone"], n)
    return ref, cur


def test_html_is_self_contained_and_draws_every_feature() -> None:
    ref, cur = data()
    html = build_report(ref, cur, model="churn:2").to_html()
    assert html.startswith("<!doctype html>")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<link" not in html and "@import" not in html
    assert html.count("<svg") == 4
    for column in ("amount", "age", "channel", "flag &lt;b&gt;"):
        assert f'data-column="{column}"' in html
    assert "flag <b>" not in html  # column names are escaped
    assert re.search(r'data-column="amount">.*?status-drift', html, re.S)
    assert "churn:2" in html


def test_json_holds_drift_quality_and_distributions() -> None:
    ref, cur = data()
    report = json.loads(
        build_report(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)).to_json()
    )
    assert report["drift"]["mode"] == "exact"
    drifted = set(report["drift"]["drifted_columns"])
    assert {"amount", "channel"} <= drifted and "age" not in drifted
    channel = next(c for c in report["quality"]["columns"] if c["column"] == "channel")
    assert channel["unseen_categories"] == 1
    amount = next(d for d in report["distributions"] if d["column"] == "amount")
    assert len(amount["edges"]) == len(amount["reference"]) + 1
    assert abs(sum(amount["reference"]) - 1) < 1e-3 and abs(sum(amount["current"]) - 1) < 1e-3


def test_report_against_a_stored_profile() -> None:
    ref, cur = data()
    report = build_report(profile_dataset(ref), cur)
    assert report.drift.mode == "profile"
    assert {"amount", "channel"} <= set(report.drift.drifted_columns)
    assert report.to_html().count("<svg") == 4


def test_missing_new_and_empty_columns_are_listed_without_drawings() -> None:
    ref, cur = data(500)
    cur = cur.drop(columns=["age"]).assign(extra=1.0, amount=np.nan)
    report = build_report(ref, cur)
    statuses = {c.column: c.status for c in report.drift.columns}
    assert statuses["age"] == "column missing" and statuses["extra"] == "new column"
    assert statuses["amount"] == "all missing"
    html = report.to_html()
    assert 'data-column="extra"' in html and "Nothing to draw" in html


def test_progress_reports_each_column() -> None:
    ref, cur = data(300)
    seen: list[str] = []
    build_report(ref, cur, progress=seen.append)
    assert seen[:4] == ["amount", "age", "channel", "flag <b>"]


def test_parquet_read_column_by_column_gives_the_same_report(tmp_path: Path) -> None:
    ref, cur = data(2000)
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    whole = build_report(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur))
    lazy = build_report(open_data(tmp_path / "ref.parquet"), open_data(tmp_path / "cur.parquet"))
    assert lazy.drift == whole.drift
    assert lazy.quality == whole.quality
