"""``steward report``: two files in, one HTML page and JSON out; bad files, one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tests.helpers import admin_token_of, fitted_model, training_frame

from modelsteward import Client
from modelsteward.context import Steward


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelsteward", "report", *args],
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_pair(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 2000), "plan": rng.choice(["a", "b"], 2000)})
    cur = pd.DataFrame({"income": rng.normal(65, 10, 1500), "plan": rng.choice(["a", "b"], 1500)})
    ref.to_csv(folder / "reference.csv", index=False)
    cur.to_csv(folder / "current.csv", index=False)
    return folder / "reference.csv", folder / "current.csv"


def test_two_csv_files_give_an_html_and_a_json_report(tmp_path: Path) -> None:
    write_pair(tmp_path)
    out = run(
        "reference.csv", "current.csv", "-o", "report.html", "--json", "report.json", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "1 of 2 columns drifted" in out.stdout
    html = (tmp_path / "report.html").read_text()
    assert html.count("<svg") == 2 and "<script" not in html
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["drift"]["drifted_columns"] == ["income"]
    assert report["current_rows"] == 1500 and report["reference_rows"] == 2000


def test_parquet_and_column_selection(tmp_path: Path) -> None:
    ref, cur = write_pair(tmp_path)
    pd.read_csv(cur).to_parquet(tmp_path / "current.parquet")
    out = run(
        str(ref),
        "current.parquet",
        "-o",
        "r.html",
        "--json",
        "r.json",
        "--columns",
        "plan",
        "-q",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    report = json.loads((tmp_path / "r.json").read_text())
    assert [c["column"] for c in report["drift"]["columns"]] == ["plan"]


def test_bad_inputs_fail_with_one_line_and_write_nothing(tmp_path: Path) -> None:
    write_pair(tmp_path)
    (tmp_path / "broken.csv").write_text('income,plan\n1,a,extra,fields\n"open quote\n')
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    cases = {
        ("missing.csv",): "no such file",
        ("broken.csv",): "cannot read broken.csv",
        ("broken.parquet",): "cannot read broken.parquet",
        ("data.xlsx",): "expected a .csv or .parquet file",
    }
    for (current,), message in cases.items():
        out = run("reference.csv", current, "-o", "report.html", cwd=tmp_path)
        assert out.returncode == 2, (current, out.stderr)
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
        assert "Traceback" not in out.stderr
    assert not (tmp_path / "report.html").exists()
    dash = run("-", "current.csv", "-o", "report.html", cwd=tmp_path)
    assert dash.returncode == 2 and "needs --model" in dash.stderr


def test_model_training_profile_is_the_reference(
    tmp_path: Path, steward: Steward, server: str
) -> None:
    frame, labels = training_frame(rows=400)
    with Client(server, admin_token_of(steward)) as client:
        client.register(fitted_model(), name="churn", sample=frame, training_data=frame)
    shifted = frame.assign(income=frame.income + 25, extra=1)
    shifted.to_csv(tmp_path / "window.csv", index=False)
    env = {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    out = run(
        "-",
        "window.csv",
        "--model",
        "churn:1",
        "-o",
        "r.html",
        "--json",
        "r.json",
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["drift"]["mode"] == "profile" and report["model"] == "churn:1"
    assert [c["column"] for c in report["drift"]["columns"]] == [
        "age",
        "income",
    ]  # the input schema
    assert report["drift"]["drifted_columns"] == ["income"]
