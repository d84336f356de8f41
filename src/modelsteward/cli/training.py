"""``steward pipelines ...``, ``steward retrain``, ``steward runs ...`` and
``steward reproduce``: retraining pipelines and their runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_json, print_table
from modelsteward.errors import InvalidInput
from modelsteward.training.sources import pack

pipelines = typer.Typer(
    help="Retraining pipelines: create, list, show, trust.", no_args_is_help=True
)
runs = typer.Typer(help="Training runs: list, show, logs.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
FINAL = ("succeeded", "failed")


def _read_spec(file: Path | None) -> dict[str, Any]:
    if file is None:
        return {}
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{file} must hold one pipeline (a mapping)")
    return loaded


@pipelines.command("create")
def create(
    model: Annotated[str, typer.Argument(help="The model it retrains.")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="A YAML pipeline.")] = None,
    entry_point: Annotated[str | None, typer.Option(help="module:function")] = None,
    source: Annotated[
        Path | None, typer.Option(help="A .py file or folder, uploaded to the artifact store.")
    ] = None,
    local: Annotated[
        Path | None, typer.Option(help="A folder on the server, used in place (development).")
    ] = None,
    data: Annotated[str | None, typer.Option(help="A CSV/Parquet path or storage URI.")] = None,
    target: Annotated[str | None, typer.Option(help="The target column.")] = None,
    param: Annotated[list[str], typer.Option("--param", help="KEY=VALUE")] = [],  # noqa: B006
    seed: Annotated[int | None, typer.Option(help="The seed the function is given.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds a run may take.")] = None,
    memory_mb: Annotated[int | None, typer.Option(help="Address-space limit of a run.")] = None,
    trust: Annotated[str | None, typer.Option(help="Why this code may run (required).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace its pipeline.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Attach a retraining pipeline to a model (flags override the file)."""
    spec = _read_spec(file)
    for key, value in (
        ("entry_point", entry_point),
        ("target", target),
        ("seed", seed),
        ("timeout_s", timeout),
        ("memory_mb", memory_mb),
        ("trust_reason", trust),
    ):
        if value is not None:
            spec[key] = value
    if data is not None:
        spec["data"] = {"kind": "file", "location": data}
    params = dict(spec.get("params") or {})
    for pair in param:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param takes KEY=VALUE, not {pair[:60]!r}")
        params[key] = yaml.safe_load(raw)
    spec["params"] = params
    with client() as c:
        if local is not None:
            spec["source"] = {"kind": "local", "path": str(local.resolve())}
        elif source is not None:
            content, name = pack(source)
            spec["source"] = c._call(
                "POST", "/api/v1/pipelines/sources", params={"name": name}, content=content
            )
        created = c._call(
            "PUT", f"/api/v1/pipelines/{model}", json=spec, params={"replace": replace}
        )
    if as_json:
        print_json(created)
        return
    trusted = "trusted" if created["trusted"] else "waiting for a risk manager to trust it"
    console.print(f"pipeline of {model} created ({created['entry_point']}, {trusted})")


@pipelines.command("list")
def list_(as_json: JsonFlag = False) -> None:
    """Every model's pipeline."""
    with client() as c:
        rows = c._call("GET", "/api/v1/pipelines")
    if as_json:
        print_json(rows)
        return
    print_table(
        "Pipelines",
        ["model", "entry point", "source", "data", "trusted"],
        [
            (r["model"], r["entry_point"], r["source"]["kind"], json.dumps(r["data"]), r["trusted"])
            for r in rows
        ],
        empty="no pipelines yet: create one with 'steward pipelines create'",
    )


@pipelines.command("show")
def show(model: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """One model's pipeline."""
    with client() as c:
        shown = c._call("GET", f"/api/v1/pipelines/{model}")
    if as_json:
        print_json(shown)
        return
    for key in ("model", "entry_point", "source", "data", "target", "params", "seed"):
        console.print(f"{key}: {shown[key]}", highlight=False)
    console.print(f"limits: {shown['timeout_s']:g} s, {shown['memory_mb']} MB", highlight=False)
    console.print(f"trusted: {shown['trusted']}  code hash: {shown['code_hash']}", highlight=False)


@pipelines.command("trust")
def trust_(model: Annotated[str, typer.Argument()], as_json: JsonFlag = False) -> None:
    """Grant the trust that lets the pipeline's code run (risk managers)."""
    with client() as c:
        shown = c._call("POST", f"/api/v1/pipelines/{model}/trust")
    if as_json:
        print_json(shown)
        return
    console.print(f"pipeline of {model} trusted by {shown['trust']['granted_by']}")


def _wait(c: Any, run_id: int, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        run: dict[str, Any] = c._call("GET", f"/api/v1/runs/{run_id}")
        if run["status"] in FINAL or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def _say(run: dict[str, Any]) -> None:
    line = f"run {run['id']} of {run['model']}: {run['status']}"
    if run["status"] == "succeeded":
        line += f", candidate {run['model']}:{run['version']}"
    elif run["status"] == "failed":
        line += f" ({run['reason']})"
    console.print(line, highlight=False, soft_wrap=True)


def retrain(
    model: Annotated[str, typer.Argument(help="The model to retrain.")],
    cause: Annotated[str | None, typer.Option(help="Why (recorded in the lineage).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run ends.")] = False,
    wait_timeout: Annotated[float, typer.Option(help="Seconds to wait at most.")] = 3600,
    as_json: JsonFlag = False,
) -> None:
    """Start a run of the model's pipeline now; exit 1 if --wait sees it fail."""
    with client() as c:
        run = c._call("POST", "/api/v1/runs", json={"model": model, "cause": cause})
        if wait:
            run = _wait(c, run["id"], wait_timeout)
    print_json(run) if as_json else _say(run)
    if wait and run["status"] != "succeeded":
        raise typer.Exit(1)


@runs.command("list")
def list_runs(
    model: Annotated[str | None, typer.Option(help="Only this model's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded, failed")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Runs, newest first."""
    params = {k: v for k, v in (("model", model), ("status", status)) if v is not None}
    with client() as c:
        rows = c._call("GET", "/api/v1/runs", params=params)
    if as_json:
        print_json(rows)
        return
    print_table(
        "Runs",
        ["id", "model", "status", "version", "cause", "reason"],
        [(r["id"], r["model"], r["status"], r["version"], r["cause"], r["reason"]) for r in rows],
        empty="no runs yet: start one with 'steward retrain MODEL'",
    )


@runs.command("show")
def show_run(run_id: Annotated[int, typer.Argument()], as_json: JsonFlag = False) -> None:
    """A run's status, progress, metrics and candidate."""
    with client() as c:
        run = c._call("GET", f"/api/v1/runs/{run_id}")
    if as_json:
        print_json(run)
        return
    _say(run)
    if run["progress"]:
        console.print(f"progress: {run['progress']}", highlight=False)
    if run["metrics"]:
        console.print(f"metrics: {run['metrics']}", highlight=False)


@runs.command("logs")
def logs(run_id: Annotated[int, typer.Argument()]) -> None:
    """The run's captured output."""
    with client() as c:
        response = c._http.get(f"/api/v1/runs/{run_id}/logs")
        if response.status_code != 200:
            c._call("GET", f"/api/v1/runs/{run_id}")  # raises the API's error
    typer.echo(response.text, nl=False)


def reproduce(
    ref: Annotated[str, typer.Argument(help="NAME:VERSION")], as_json: JsonFlag = False
) -> None:
    """Train a version's recorded run again; exit 0 only if artifact and metrics match."""
    name, sep, version = ref.rpartition(":")
    if not sep or not name or not (version.isdigit() or version == "latest"):
        raise InvalidInput(f"reproduce takes NAME:VERSION, not {ref[:80]!r}")
    number: int | str = int(version) if version.isdigit() else version
    with client() as c:
        report = c._call("POST", "/api/v1/runs/reproduce", json={"model": name, "version": number})
    if as_json:
        print_json(report)
    elif report["reproduced"]:
        console.print(f"{name}:{report['version']} reproduced: same artifact and metrics")
    else:
        console.print(f"{name}:{report['version']} did not reproduce:", highlight=False)
        for difference in report["differences"]:
            console.print(f"  {difference}", highlight=False, soft_wrap=True)
    if not report["reproduced"]:
        raise typer.Exit(1)
