"""Reports: one self-contained HTML file with every column and a drawing per feature; JSON."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

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


class Page(HTMLParser):
    """The parts of a report page the tests read: text by element id, and each feature's
    SVG (the current's outline points, the axis labels)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.classes: dict[str, str] = {}
        self.outline: dict[str, list[float]] = {}
        self.labels: dict[str, list[str]] = {}
        self.rows: list[dict[str, str]] = []
        self._open: list[str] = []
        self._feature = ""
        self._in_label = False
        self._cells: list[str] | None = None
        self._table = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if "id" in found:
            self._open.append(found["id"])
            self.text.setdefault(found["id"], "")
            self._table = found["id"] if tag == "table" else self._table
        if tag == "article":
            self._feature = found.get("data-column", "")
        if tag == "b" and self._open:
            self.classes[self._open[-1]] = found.get("class", "")
        if tag == "polyline" and self._feature:
            points = [p.split(",") for p in found["points"].split()]
            self.outline[self._feature] = [float(y) for _, y in points[::2]]
        if tag == "text" and self._feature:
            self._in_label = True
        if tag == "tr" and self._table == "quality-issues":
            self._cells = []
        if tag == "td" and self._cells is not None:
            self._cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("div", "table") and self._open:
            self._open.pop()
        if tag == "article":
            self._feature = ""
        if tag == "text":
            self._in_label = False
        if tag == "tr" and self._cells is not None:
            if len(self._cells) == 5:
                keys = ("column", "metric", "value", "threshold", "issue")
                self.rows.append(dict(zip(keys, self._cells, strict=True)))
            self._cells = None

    def handle_data(self, data: str) -> None:
        for name in self._open:
            self.text[name] += data
        if self._in_label:
            self.labels.setdefault(self._feature, []).append(data)
        if self._cells and self.lasttag == "td":
            self._cells[-1] += data.strip()


def thirty(drifted: int, n: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({f"f{i:02d}": rng.normal(0, 1, n) for i in range(30)})
    cur = pd.DataFrame({f"f{i:02d}": rng.normal(0, 1, n) for i in range(30)})
    for i in range(drifted):
        cur[f"f{i:02d}"] += 1.0
    return ref, cur


def test_headline_names_the_drifted_features_below_the_dataset_share_in_amber() -> None:
    ref, cur = thirty(drifted=2)
    report = build_report(ref, cur)
    assert not report.drift.dataset_drift  # 2 of 30 is under the 0.5 share rule
    page = Page(report.to_html())
    assert "2 of 30 features drifted: f00, f01" in page.text["drift-headline"]
    assert "no drift" not in page.text["drift-headline"]
    assert "status-warn" in page.classes["drift-headline"]
    assert "no dataset drift" in page.text["drift-headline"]


def test_headline_is_red_with_dataset_drift_and_green_without_drifted_features() -> None:
    ref, cur = thirty(drifted=20)
    page = Page(build_report(ref, cur).to_html())
    assert "20 of 30 features drifted: f00, f01" in page.text["drift-headline"]
    assert "and 12 more" in page.text["drift-headline"]
    assert "status-drift" in page.classes["drift-headline"]
    ref, cur = thirty(drifted=0, seed=4)
    clean = build_report(ref, cur)
    assert not clean.drift.drifted_columns
    page = Page(clean.to_html())
    assert "no drift" in page.text["drift-headline"]
    assert "status-ok" in page.classes["drift-headline"]


@pytest.mark.parametrize("profiled", [False, True], ids=["exact", "profile"])
def test_histograms_draw_current_values_beyond_the_reference_range_where_they_lie(
    profiled: bool,
) -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.uniform(0, 1, 4000)})
    cur = pd.DataFrame({"x": rng.uniform(0, 2, 4000)})  # half beyond the reference's max
    report = build_report(profile_dataset(ref) if profiled else ref, cur)
    drawn = next(d for d in report.distributions if d.column == "x")
    assert drawn.edges is not None
    assert drawn.edges[0] == pytest.approx(min(ref.x.min(), cur.x.min()))
    assert drawn.edges[-1] == pytest.approx(cur.x.max())
    # current is uniform over the whole grid: no bin holds a pile
    assert max(drawn.current) < 1.6 / len(drawn.current)
    assert sum(drawn.reference[len(drawn.reference) // 2 + 1 :]) == pytest.approx(0, abs=1e-6)
    page = Page(report.to_html())
    assert float(page.labels["x"][-1]) == pytest.approx(cur.x.max(), rel=1e-3)
    baseline = 160 - 22  # the SVG's axis: HEIGHT - BOTTOM
    heights = [baseline - y for y in page.outline["x"]]
    assert max(heights) < 1.6 * float(np.mean(heights))


def test_data_quality_names_each_issue_with_its_metric_value_and_threshold() -> None:
    rng = np.random.default_rng(6)
    n = 2000
    ref = pd.DataFrame({"amount": rng.normal(0, 1, n), "plan": rng.choice(["a", "b"], n)})
    cur = pd.DataFrame({"amount": rng.normal(0, 1, n), "plan": rng.choice(["a", "b"], n)})
    cur.iloc[: n // 10, 0] = 50.0  # 10% out of range
    cur.iloc[n // 2 : n // 2 + n // 5, 1] = None  # 20% missing
    report = build_report(ref, cur)
    issues = {(i.column, i.metric): i for i in report.quality.issues}
    out = issues[("amount", "out_of_range_rate")]
    assert out.value == pytest.approx(0.1, abs=0.002) and out.threshold is not None
    assert 0.01 < out.threshold < 0.02
    assert ("plan", "missing_rate") in issues
    assert ("amount", "missing_rate") not in issues
    page = Page(report.to_html())
    card = page.text["quality-headline"]
    assert "issue" in card
    assert "amount: 10.0% of values outside the reference range (limit 1." in card
    assert "plan: missing rate 20.0%" in card
    rows = {(r["column"], r["metric"]): r for r in page.rows}
    assert float(rows[("amount", "out_of_range_rate")]["value"]) == pytest.approx(out.value)
    assert float(rows[("amount", "out_of_range_rate")]["threshold"]) == pytest.approx(
        out.threshold, rel=1e-3
    )
    assert float(rows[("(data set)", "duplicate_rows")]["value"]) >= 1  # the 200 rows of 50.0
    assert json.loads(report.to_json())["quality"]["issues"][0]["metric"]
