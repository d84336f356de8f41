"""MLflow's model registry on SQLite, through ``MlflowClient`` in process.

Runs in ``bench/.venv-mlflow``. ``fill`` logs one small sklearn model to one run (the
documented way to get a model into MLflow); every version's ``source`` is that run's
``model`` folder, as ``mlflow.register_model("runs:/<id>/model", ...)`` would record.
The first model's versions are created through the client and copied row for row
for the other models (see ``clone_template``). ``serve`` answers the driver's timed
calls: register, get, two searches and a model's version list.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

if TYPE_CHECKING:
    from mlflow import MlflowClient


def db_uri(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'mlflow' / 'mlflow.db'}"


def client_for(workdir: Path) -> MlflowClient:
    import mlflow

    uri = db_uri(workdir)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["MLFLOW_REGISTRY_URI"] = uri
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def source_of(workdir: Path) -> dict[str, str]:
    """The run and artifact folder every version points to (written by ``fill``)."""
    source: dict[str, str] = json.loads((workdir / "mlflow" / "source.json").read_text())
    return source


def log_model_once(client: MlflowClient, workdir: Path) -> dict[str, str]:
    """Save a small fitted sklearn model and log it as the artifacts of one run."""
    import mlflow.sklearn
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = pd.DataFrame(rng.random((200, 4)), columns=["a", "b", "c", "d"])
    labels = (features["a"] > 0.5).astype(int)
    local = workdir / "mlflow" / "saved-model"
    mlflow.sklearn.save_model(LogisticRegression().fit(features, labels), str(local))
    experiment = client.create_experiment(
        "registry-bench", artifact_location=str(workdir / "mlflow" / "artifacts")
    )
    run = client.create_run(experiment)
    client.log_artifacts(run.info.run_id, str(local), "model")
    client.set_terminated(run.info.run_id)
    source = {"run_id": run.info.run_id, "source": f"{run.info.artifact_uri}/model"}
    (workdir / "mlflow" / "source.json").write_text(json.dumps(source))
    return source


def clone_template(db: Path, template: str, counts: list[int]) -> None:
    """Copy the template model's rows for every other model, in one SQLite transaction.

    Every column is copied as MLflow wrote it for the template, except the model name,
    the ``team`` tag and, for models with fewer versions, the versions past their count.
    Creating 10 000 versions through ``create_model_version`` would take minutes on a
    busy two-core machine; what is measured afterwards goes through ``MlflowClient``.
    """
    con = sqlite3.connect(db)

    def columns(table: str) -> list[str]:
        return [row[1] for row in con.execute(f'PRAGMA table_info("{table}")')]

    def clone_sql(table: str, where: str) -> str:
        names = columns(table)
        values = [
            ":name"
            if c == "name"
            else "CASE WHEN \"key\" = 'team' THEN :team ELSE value END"
            if (table, c) == ("registered_model_tags", "value")
            else f'"{c}"'
            for c in names
        ]
        quoted = ", ".join(f'"{c}"' for c in names)
        return f'INSERT INTO "{table}" ({quoted}) SELECT {", ".join(values)} FROM "{table}" {where}'

    statements = [
        clone_sql("registered_models", "WHERE name = :template"),
        clone_sql("registered_model_tags", "WHERE name = :template"),
        clone_sql("model_versions", "WHERE name = :template AND version <= :count"),
        clone_sql("model_version_tags", "WHERE name = :template AND version <= :count"),
    ]
    with con:
        for i, count in enumerate(counts[1:], start=1):
            bound = {
                "name": common.model_name(i),
                "team": common.team_of(i),
                "template": template,
                "count": count,
            }
            for statement in statements:
                con.execute(statement, bound)
    con.close()


def fill(args: argparse.Namespace) -> None:
    """The first model and its versions through the client, the rest cloned from it."""
    workload = common.workload_of(args)
    (args.workdir / "mlflow").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    client = client_for(args.workdir)
    logged = log_model_once(client, args.workdir)
    counts = common.versions_per_model(workload.models, workload.versions)
    template = common.model_name(0)
    client.create_registered_model(
        template, tags={"team": common.team_of(0)}, description="benchmark model"
    )
    for _ in range(counts[0]):
        client.create_model_version(
            template,
            logged["source"],
            run_id=logged["run_id"],
            tags={"origin": "bench"},
            description="benchmark version",
        )
    clone_template(args.workdir / "mlflow" / "mlflow.db", template, counts)
    last = common.model_name(workload.models - 1)
    check = client.get_model_version(last, str(counts[-1]))
    found = client.search_model_versions(filter_string=f"name = '{last}'")
    if check.source != logged["source"] or len(found) != counts[-1]:
        raise SystemExit(f"cloned store looks wrong: {check} / {len(found)} versions")
    common.record_fill(
        args.workdir,
        "mlflow",
        time.perf_counter() - started,
        f"{workload.models} models, {sum(counts)} versions (model 0 through MlflowClient, "
        "the others cloned from its rows)",
    )


def serve(args: argparse.Namespace) -> None:
    import mlflow

    client = client_for(args.workdir)
    logged = source_of(args.workdir)

    def get(target: tuple[str, int]) -> int:
        client.get_model_version(target[0], str(target[1]))
        return 1

    def search_name(text: str) -> int:
        found = client.search_registered_models(
            filter_string=f"name LIKE '%{text}%'", max_results=50
        )
        return len(found)

    def search_tag(team: str) -> int:
        found = client.search_registered_models(
            filter_string=f"tags.team = '{team}'", max_results=50
        )
        return len(found)

    def list_versions(name: str) -> int:
        return len(client.search_model_versions(filter_string=f"name = '{name}'"))

    def register(name: str) -> int:
        client.create_model_version(
            name,
            logged["source"],
            run_id=logged["run_id"],
            tags={"origin": "bench"},
            description="benchmark version",
        )
        return 1

    calls: common.Calls = {
        "get": get,
        "search_name": search_name,
        "search_tag": search_tag,
        "list_versions": list_versions,
        "register": register,
    }
    common.serve(calls, common.workload_of(args), mlflow.__version__)


if __name__ == "__main__":
    arguments = common.parse_args(__doc__ or "")
    if arguments.phase == "fill":
        fill(arguments)
    else:
        serve(arguments)
