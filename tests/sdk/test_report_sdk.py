"""``Client.report``: DataFrames, Arrow tables or files in, the server's report out (and
its HTML page on disk); the same numbers as ``build_report`` computed in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from tests.helpers import admin_token_of, fitted_model, training_frame

from modelsteward import Client, InvalidInput, NotFound
from modelsteward.context import Steward
from modelsteward.monitoring.report import build_report


@pytest.fixture
def client(steward: Steward, server: str) -> Iterator[Client]:
    with Client(server, admin_token_of(steward)) as c:
        yield c


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Income shifts by 1.5 standard deviations; the plan mix does not change."""
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 2000), "plan": rng.choice(["a", "b"], 2000)})
    cur = pd.DataFrame({"income": rng.normal(65, 10, 1500), "plan": rng.choice(["a", "b"], 1500)})
    return ref, cur


def test_two_dataframes_give_the_report_and_its_page(client: Client, tmp_path: Path) -> None:
    ref, cur = frames()
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    report = client.report(ref, cur, html_path=page)
    assert report["drift"]["drifted_columns"] == ["income"]
    assert (report["reference_rows"], report["current_rows"]) == (2000, 1500)
    assert "html" not in report
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "<script" not in html


def test_the_numbers_are_the_ones_build_report_gives_in_process(client: Client) -> None:
    ref, cur = frames()
    remote = client.report(ref, cur)
    local = build_report(ref, cur).to_dict()
    assert remote["drift"] == local["drift"]
    assert remote["distributions"] == local["distributions"]


def test_arrow_tables_and_files_work_alike(client: Client, tmp_path: Path) -> None:
    ref, cur = frames()
    cur.to_csv(tmp_path / "window.csv", index=False)
    ref.to_parquet(tmp_path / "train.parquet")
    from_table = client.report(pa.Table.from_pandas(ref), tmp_path / "window.csv")
    from_files = client.report(str(tmp_path / "train.parquet"), tmp_path / "window.csv")
    assert from_table["drift"] == from_files["drift"]
    assert from_files["sources"] == {"reference": "train.parquet", "current": "window.csv"}
    narrowed = client.report(ref, cur, columns=["plan"])
    assert [c["column"] for c in narrowed["drift"]["columns"]] == ["plan"]


def test_a_registered_version_is_the_reference(client: Client) -> None:
    frame, _ = training_frame(rows=400)
    client.register(fitted_model(), name="churn", sample=frame, training_data=frame)
    report = client.report(None, frame.assign(income=frame.income + 25), model="churn:1")
    assert report["drift"]["mode"] == "profile" and report["model"] == "churn:1"
    assert report["drift"]["drifted_columns"] == ["income"]


def test_bad_input_raises_the_same_errors_as_the_services(client: Client, tmp_path: Path) -> None:
    ref, cur = frames()
    with pytest.raises(InvalidInput, match="reference is needed"):
        client.report(None, cur)
    with pytest.raises(InvalidInput, match="not a file"):
        client.report(ref, tmp_path / "missing.csv")
    with pytest.raises(InvalidInput, match="expected a DataFrame"):
        client.report(ref, [1, 2, 3])
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InvalidInput, match="current: the file is empty"):
        client.report(ref, tmp_path / "empty.csv")
    with pytest.raises(InvalidInput, match="no common columns"):
        client.report(ref, pd.DataFrame({"other": [1, 2]}))
    with pytest.raises(NotFound, match="ghost"):
        client.report(None, cur, model="ghost:1")
