"""``steward report``: drift and data quality of CURRENT against REFERENCE, as HTML and JSON.

Works on local CSV or Parquet files, reading only the columns it compares. With
``--model NAME:VERSION`` it compares the model's input columns (from its registered
input schema), and REFERENCE may be ``-`` to use the version's stored training-data
profile instead of a file (fetched through the usual server connection).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelsteward.cli.output import console, errors
from modelsteward.errors import InvalidInput


def _model_version(spec: str) -> dict[str, Any]:
    name, sep, ref = spec.partition(":")
    if not name or (sep and not ref):
        raise InvalidInput("--model must be NAME or NAME:VERSION")
    from modelsteward.cli.connection import client

    with client() as api:
        version = ref if ref and not ref.isdigit() else (int(ref) if ref else "latest")
        return api.get_version(name, version)


def _input_columns(version: dict[str, Any]) -> list[str] | None:
    columns = (version.get("input_schema") or {}).get("columns") or []
    names = [c["name"] for c in columns if c.get("type") != "tensor" and c.get("name")]
    return names or None


def report(
    reference: Annotated[
        str,
        typer.Argument(
            help="Reference .csv/.parquet file, or '-' for --model's training-data profile."
        ),
    ],
    current: Annotated[str, typer.Argument(help="Current .csv/.parquet file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML report.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", metavar="NAME:VERSION", help="Compare this version's inputs."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns to compare.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Write a self-contained HTML drift report (and JSON) comparing two data sets."""
    from modelsteward.monitoring.drift import DriftConfig
    from modelsteward.monitoring.report import build_report
    from modelsteward.monitoring.report.files import open_data
    from modelsteward.profiles.dataset import DatasetProfile

    if output.suffix.lower() not in (".html", ".htm"):
        raise InvalidInput("--output must name an .html file")
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    version = _model_version(model) if model else None
    if version is not None and wanted is None:
        wanted = _input_columns(version)
    baseline: Any
    if reference == "-":
        if version is None:
            raise InvalidInput("REFERENCE '-' needs --model: it uses the training-data profile")
        stored = (version.get("training_data") or {}).get("profile")
        if not stored:
            raise InvalidInput(f"{model} has no stored training-data profile")
        baseline = DatasetProfile.from_dict(stored)
    else:
        baseline = open_data(reference, wanted)
    window = open_data(current, wanted)
    if wanted is not None:
        missing = [c for c in wanted if c not in window.schema.names]
        if len(missing) == len(wanted):
            raise InvalidInput(f"{current} has none of the columns to compare")

    def progress(step: str) -> None:
        # Steps are bare names ("age", "duplicate rows"): worth a glance on a terminal
        # while a large file is read, noise in a pipe or a log.
        if not quiet and errors.is_terminal:
            errors.print(f"  checking {step}", style="dim", highlight=False)

    result = build_report(
        baseline,
        window,
        model=model,
        config=DriftConfig(columns=wanted),
        sources={
            "reference": reference if reference != "-" else f"{model} profile",
            "current": current,
        },
        progress=progress,
    )
    try:
        output.write_text(result.to_html(), encoding="utf-8")
        if json_path is not None:
            json_path.write_text(result.to_json(), encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write the report: {exc.strerror or exc}") from None
    drifted, judged = (
        len(result.drift.drifted_columns),
        sum(1 for c in result.drift.columns if c.drifted is not None),
    )
    if quiet:
        return
    verdict = "dataset drift" if result.drift.dataset_drift else "no dataset drift"
    console.print(f"{drifted} of {judged} columns drifted ({verdict}); report written to {output}")
