"""Batch scoring: files in, predictions out, chunk by chunk, logged like online requests."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.helpers import sklearn_spec, skops_file, training_frame

from modelsteward.cli.main import main
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.loading import load_model
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version
from modelsteward.serving import batch
from modelsteward.serving.deployments import request_deploy
from modelsteward.serving.predlog import PredictionLog
from modelsteward.serving.runtime import ServingRuntime

DEPLOYMENT = "churn-production"
FEATURES = ["age", "income"]
SCHEMA = {
    "columns": [
        {"name": "age", "type": "integer", "dtype": "int64"},
        {"name": "income", "type": "float", "dtype": "float64"},
    ]
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "batch-scoring.md"


@pytest.fixture
def deployed(steward: Steward, tmp_path: Path) -> Steward:
    """churn v1 (a real sklearn model) served as churn-production; v2 registered, not routed."""
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    for seed in (0, 1):
        blob = steward.artifacts.put_file(skops_file(tmp_path / f"model-{seed}", seed=seed))
        spec = VersionSpec.model_validate(sklearn_spec(input_schema=SCHEMA))
        register_version(steward, SYSTEM, "churn", spec, {"model.skops": blob})
    request_deploy(steward, SYSTEM, "churn", 1, "production")
    ServingRuntime(steward).sync()  # runs the rollout in this thread
    return steward


def customers(rows: int, seed: int = 3) -> pd.DataFrame:
    frame, _ = training_frame(rows=rows, seed=seed)
    frame.insert(0, "customer_id", [f"c{seed}-{i}" for i in range(rows)])
    return frame


def expected(steward: Steward, frame: pd.DataFrame, version: int = 1) -> np.ndarray:
    return np.asarray(load_model(steward, "churn", version).predict(frame[FEATURES]))


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def score(steward: Steward, source: Path, target: Path, **options: Any) -> batch.BatchSummary:
    request = batch.ScoreRequest(DEPLOYMENT, str(source), str(target), **options)
    plan = batch.plan_job(steward, request)
    return batch.run_local(steward, plan, batch.load_target(steward, plan))


def logged(steward: Steward) -> pd.DataFrame:
    reader = PredictionLog(steward.settings.logs_url)
    try:
        return reader.read(DEPLOYMENT).to_pandas()
    finally:
        reader.close()


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def steward_cli(
    deployed: Steward,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Run]:
    """``steward ARGS`` through its entry point, in ``tmp_path``, on ``deployed``'s stores.

    In process: the same ``main()`` as the installed command (one-line errors, exit
    codes), without starting an interpreter and importing scikit-learn for every run.
    """
    for name in [n for n in os.environ if n.startswith("STEWARD_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("STEWARD_HOME", str(deployed.settings.home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["steward", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return Run(int(exited.value.code or 0), captured.out, captured.err)

    return run


@pytest.mark.parametrize("output", ["scores.csv", "scores.parquet"])
def test_a_csv_file_scores_like_direct_predict(
    deployed: Steward, tmp_path: Path, output: str
) -> None:
    frame = customers(300)
    frame.to_csv(tmp_path / "customers.csv", index=False)
    summary = score(deployed, tmp_path / "customers.csv", tmp_path / output, chunk_rows=128)
    scored = read(tmp_path / output)
    assert list(scored.columns) == ["customer_id", "age", "income", "prediction"]
    assert scored["customer_id"].tolist() == frame["customer_id"].tolist()
    assert np.array_equal(scored["prediction"].to_numpy(), expected(deployed, frame))
    assert np.allclose(scored["income"], frame["income"])
    assert (summary.rows, summary.chunks, summary.files) == (300, 3, 1)


@pytest.mark.parametrize("output", ["scores.csv", "scores.parquet"])
def test_a_parquet_file_scores_like_direct_predict(
    deployed: Steward, tmp_path: Path, output: str
) -> None:
    frame = customers(500)
    frame.to_parquet(tmp_path / "customers.parquet", index=False, row_group_size=200)
    score(deployed, tmp_path / "customers.parquet", tmp_path / output, chunk_rows=150)
    scored = read(tmp_path / output)
    assert list(scored.columns) == ["customer_id", "age", "income", "prediction"]
    assert scored[FEATURES].equals(frame[FEATURES])
    assert np.array_equal(scored["prediction"].to_numpy(), expected(deployed, frame))


def test_a_folder_gives_one_output_per_file(deployed: Steward, tmp_path: Path) -> None:
    source = tmp_path / "daily"
    source.mkdir()
    frames = {f"2024-05-0{day}": customers(40 + day, seed=day) for day in (1, 2, 3)}
    for stem, frame in frames.items():
        frame.to_csv(source / f"{stem}.csv", index=False)
    (source / ".partial.csv").write_text("not,a,finished,file\n")
    (source / "README.txt").write_text("ignored")
    summary = score(deployed, source, tmp_path / "scores", output_format="csv")
    assert sorted(p.name for p in (tmp_path / "scores").iterdir()) == [
        f"{stem}.csv" for stem in sorted(frames)
    ]
    for stem, frame in frames.items():
        scored = pd.read_csv(tmp_path / "scores" / f"{stem}.csv")
        assert np.array_equal(scored["prediction"].to_numpy(), expected(deployed, frame))
    assert (summary.files, summary.rows) == (3, sum(len(f) for f in frames.values()))


def test_a_file_bigger_than_a_chunk_is_read_and_logged_chunk_by_chunk(
    deployed: Steward, tmp_path: Path
) -> None:
    frame = customers(2_500)
    frame.to_parquet(tmp_path / "customers.parquet", index=False)
    summary = score(
        deployed, tmp_path / "customers.parquet", tmp_path / "s.parquet", chunk_rows=1_000
    )
    records = logged(deployed)
    assert summary.chunks == 3
    assert sorted(records["n_rows"].tolist()) == [500, 1_000, 1_000]
    assert len(pq.ParquetFile(tmp_path / "s.parquet").metadata.to_dict()["row_groups"]) == 3


def test_predictions_are_logged_with_route_batch_one_record_per_chunk(
    deployed: Steward, tmp_path: Path
) -> None:
    frame = customers(250)
    frame.to_csv(tmp_path / "customers.csv", index=False)
    summary = score(deployed, tmp_path / "customers.csv", tmp_path / "s.parquet", chunk_rows=100)
    records = logged(deployed).sort_values("request_id")
    assert set(records["route"]) == {"batch"} and set(records["status"]) == {200}
    assert set(records["version"]) == {1} and set(records["model"]) == {"churn"}
    assert records["request_id"].tolist() == [
        f"{summary.job_id}-0.{offset}" for offset in (0, 100, 200)
    ]
    inputs = [row for text in records["inputs"] for row in json.loads(text)]
    outputs = [value for text in records["outputs"] for value in json.loads(text)]
    assert inputs == frame[FEATURES].to_dict("records")
    model = load_model(deployed, "churn", 1)  # a classifier: its probability is logged too
    scores = model.predict_proba(frame[FEATURES])[:, 1]
    assert outputs == [
        {"prediction": c, "probability": p}
        for c, p in zip(expected(deployed, frame).tolist(), scores.tolist(), strict=True)
    ]


def test_id_column_keeps_only_the_id_and_the_predictions(deployed: Steward, tmp_path: Path) -> None:
    frame = customers(60)
    frame.to_parquet(tmp_path / "customers.parquet", index=False)
    score(deployed, tmp_path / "customers.parquet", tmp_path / "s.csv", id_column="customer_id")
    scored = pd.read_csv(tmp_path / "s.csv")
    assert list(scored.columns) == ["customer_id", "prediction"]
    with pytest.raises(InvalidInput, match="no column 'missing'"):
        score(deployed, tmp_path / "customers.parquet", tmp_path / "t.csv", id_column="missing")


def test_version_picks_a_routed_version_and_refuses_others(
    deployed: Steward, tmp_path: Path
) -> None:
    customers(10).to_csv(tmp_path / "customers.csv", index=False)
    assert score(deployed, tmp_path / "customers.csv", tmp_path / "a.csv", version=1).version == 1
    with pytest.raises(NotFound, match="does not serve version 2"):
        score(deployed, tmp_path / "customers.csv", tmp_path / "b.csv", version=2)


@pytest.mark.parametrize(("kind", "bad"), [("csv", "forty-two"), ("parquet", 42.5)])
def test_a_bad_row_stops_the_job_naming_file_row_and_column_not_the_value(
    deployed: Steward,
    steward_cli: Callable[..., Run],
    tmp_path: Path,
    kind: str,
    bad: object,
) -> None:
    frame = customers(2_000).astype({"age": object if kind == "csv" else float})
    frame.loc[1_234, "age"] = bad
    source = tmp_path / f"bad.{kind}"
    frame.to_csv(source, index=False) if kind == "csv" else frame.to_parquet(source, index=False)
    result = steward_cli("score", DEPLOYMENT, source.name, "scores.parquet", "--chunk-rows", "500")
    assert result.code == 2, result.err
    message = result.err.strip()
    assert len(message.splitlines()) == 1
    assert f"bad.{kind}, row 1234: column 'age' needs whole numbers" in message
    assert str(bad) not in message
    assert not any(p.name.startswith("scores") or ".tmp" in p.name for p in tmp_path.iterdir())
    statuses = logged(deployed)["status"].tolist()
    assert sorted(statuses) == [200, 200, 422]  # two good chunks, then the bad one stopped it


def test_an_existing_output_is_refused_unless_overwrite(
    deployed: Steward, steward_cli: Callable[..., Run], tmp_path: Path
) -> None:
    customers(20).to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "scores.csv").write_text("keep me\n")
    refused = steward_cli("score", DEPLOYMENT, "customers.csv", "scores.csv")
    assert refused.code == 5
    assert "already exists; pass --overwrite" in refused.err
    assert (tmp_path / "scores.csv").read_text() == "keep me\n"
    with pytest.raises(Conflict):
        score(deployed, tmp_path / "customers.csv", tmp_path / "scores.csv")
    score(deployed, tmp_path / "customers.csv", tmp_path / "scores.csv", overwrite=True)
    assert len(pd.read_csv(tmp_path / "scores.csv")) == 20


def test_the_cli_prints_a_json_summary(steward_cli: Callable[..., Run], tmp_path: Path) -> None:
    customers(120).to_parquet(tmp_path / "customers.parquet", index=False)
    run = steward_cli(
        "score", DEPLOYMENT, "customers.parquet", "s.parquet", "--chunk-rows", "50", "--json"
    )
    assert run.code == 0, run.err
    summary = json.loads(run.out)
    assert summary["rows"] == 120 and summary["chunks"] == 3
    assert summary["output"] == str(tmp_path / "s.parquet") and summary["rows_per_s"] > 0


# -- Dask ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[str]:
    """Two single-threaded worker processes on this machine; the scheduler's address."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield str(cluster.scheduler_address)


@pytest.fixture
def dask_client(dask_cluster: str) -> Iterator[Any]:
    from dask.distributed import Client

    with Client(dask_cluster) as client:
        yield client


def score_on_dask(
    client: Any, steward: Steward, source: Path, target: Path, **options: Any
) -> batch.BatchSummary:
    request = batch.ScoreRequest(DEPLOYMENT, str(source), str(target), **options)
    plan = batch.plan_job(steward, request, split=4)
    batch.load_target(steward, plan)
    ticks: list[int] = []
    summary = batch.run_on_dask(client, steward.settings, plan, lambda rows, _: ticks.append(rows))
    assert sum(ticks) == summary.rows and len(ticks) == len(plan.parts)
    return summary


def test_a_dask_run_equals_the_local_run(
    deployed: Steward, dask_client: Any, tmp_path: Path
) -> None:
    customers(4_000).to_parquet(tmp_path / "big.parquet", index=False, row_group_size=500)
    local = score(deployed, tmp_path / "big.parquet", tmp_path / "local.parquet", chunk_rows=300)
    remote = score_on_dask(
        dask_client, deployed, tmp_path / "big.parquet", tmp_path / "dask.parquet", chunk_rows=300
    )
    assert pd.read_parquet(tmp_path / "dask.parquet").equals(
        pd.read_parquet(tmp_path / "local.parquet")
    )
    assert remote.rows == local.rows == 4_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # parts merged, removed
    records = logged(deployed)
    assert records["n_rows"].sum() == 8_000 and set(records["route"]) == {"batch"}

    folder = tmp_path / "daily"
    folder.mkdir()
    for day in (1, 2, 3):
        customers(100 * day, seed=day).to_csv(folder / f"day-{day}.csv", index=False)
    score(deployed, folder, tmp_path / "local-daily", chunk_rows=70)
    remote = score_on_dask(dask_client, deployed, folder, tmp_path / "dask-daily", chunk_rows=70)
    assert remote.files == 3
    for day in (1, 2, 3):
        name = f"day-{day}.parquet"
        assert pd.read_parquet(tmp_path / "dask-daily" / name).equals(
            pd.read_parquet(tmp_path / "local-daily" / name)
        )


def test_a_failing_dask_task_stops_the_job_and_leaves_no_output(
    deployed: Steward, dask_client: Any, tmp_path: Path
) -> None:
    frame = customers(1_000).astype({"age": float})
    frame.loc[777, "age"] = 7.5
    frame.to_parquet(tmp_path / "bad.parquet", index=False, row_group_size=250)
    with pytest.raises(InvalidInput, match=r"bad\.parquet, row 777: column 'age'"):
        score_on_dask(dask_client, deployed, tmp_path / "bad.parquet", tmp_path / "out.parquet")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".", "out"))]


# -- the docs --------------------------------------------------------------------------
def test_every_example_in_the_docs_runs(
    steward_cli: Callable[..., Run], dask_cluster: str, tmp_path: Path
) -> None:
    """Each ``steward score`` line of docs/batch-scoring.md, against files named like the doc's."""
    customers(1_000).to_parquet(tmp_path / "customers.parquet", index=False, row_group_size=250)
    customers(300).to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "daily").mkdir()
    for day in (1, 2):
        customers(50, seed=day).to_csv(tmp_path / "daily" / f"2024-05-0{day}.csv", index=False)
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(), flags=re.S)
    lines = [
        line.split("  #")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("steward score")
    ]
    assert len(lines) >= 5
    for line in lines:
        result = steward_cli(*line.replace("tcp://scheduler:8786", dask_cluster).split()[1:])
        assert result.code == 0, f"{line}: {result.err}"
    assert len(pd.read_csv(tmp_path / "ids.csv").columns) == 2
    assert len(pd.read_parquet(tmp_path / "dask-scores.parquet")) == 1_000
