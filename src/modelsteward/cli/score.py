"""``steward score``: a deployment's model over CSV or Parquet files, chunk by chunk.

Like ``steward fsck`` it works on the local stores (``STEWARD_HOME``, or the database
and artifact store the environment names), not through a server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from modelsteward.cli.output import console, print_json
from modelsteward.errors import InvalidInput, Unavailable

if TYPE_CHECKING:  # batch scoring imports pandas and pyarrow: only when it runs
    from modelsteward.serving.batch import BatchPlan

WORKER_SHARE = 2  # parts per Dask worker when a single Parquet file is split


@contextmanager
def _bar(plan: BatchPlan, hidden: bool) -> Iterator[Any]:
    """Rows done / total for Parquet (from its metadata); bytes read for CSV; rows/s."""
    amount: list[ProgressColumn]
    if plan.unit == "rows":
        amount = [TextColumn("{task.fields[rows]:>13,}/{task.total:,.0f} rows")]
    else:
        amount = [DownloadColumn(binary_units=True), TextColumn("{task.fields[rows]:>13,} rows")]
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *amount,
        TextColumn("{task.fields[rate]:>10,.0f} rows/s"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, disable=hidden, transient=False) as progress:
        task = progress.add_task(
            f"scoring {plan.deployment}", total=plan.total_units, rows=0, rate=0.0
        )
        done = 0

        def advance(rows: int, units: int) -> None:
            nonlocal done
            done += rows
            elapsed = progress.tasks[task].elapsed or 0.0
            rate = done / elapsed if elapsed > 0 else 0.0
            progress.update(task, advance=units, rows=done, rate=rate)

        yield advance


@contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise Unavailable(
            "--dask needs dask.distributed: pip install 'modelsteward[dask]'"
        ) from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError):
        raise Unavailable(f"cannot reach the Dask scheduler at {address}") from None
    with client:
        yield client


def score(
    deployment: Annotated[str, typer.Argument(help="Deployment whose model scores the rows.")],
    input_url: Annotated[
        str,
        typer.Argument(
            metavar="INPUT", help="A .csv or .parquet file, or a folder of them (path or URL)."
        ),
    ],
    output_url: Annotated[
        str,
        typer.Argument(
            metavar="OUTPUT", help="A .parquet or .csv file; a folder when INPUT is a folder."
        ),
    ],
    version: Annotated[
        int | None, typer.Option("--version", help="Score with this routed version.")
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option("--chunk-rows", help="Rows read, scored and written at a time [50 000]."),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="Keep only this input column beside the predictions."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="parquet or csv, for a folder (default parquet)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output.")
    ] = False,
    dask: Annotated[
        str | None,
        typer.Option("--dask", metavar="ADDRESS", help="Run the parts on this Dask scheduler."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary instead of the bar.")
    ] = False,
) -> None:
    """Score files with a deployment's champion; each chunk is logged with route 'batch'."""
    from modelsteward.context import Steward
    from modelsteward.serving import batch

    if output_format not in (None, "parquet", "csv"):
        raise InvalidInput("--format must be parquet or csv")
    request = batch.ScoreRequest(
        deployment=deployment,
        input_url=input_url,
        output_url=output_url,
        version=version,
        chunk_rows=batch.DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows,
        id_column=id_column,
        output_format=batch.FORMATS.get(f".{output_format}"),
        overwrite=overwrite,
    )
    steward = Steward()
    try:
        if dask is None:
            plan = batch.plan_job(steward, request)
            loaded = batch.load_target(steward, plan)
            with _bar(plan, as_json) as advance:
                summary = batch.run_local(steward, plan, loaded, advance)
        else:
            with _dask_client(dask) as client:
                workers = len(client.scheduler_info().get("workers", {}))
                plan = batch.plan_job(steward, request, split=max(1, workers) * WORKER_SHARE)
                batch.load_target(steward, plan)  # fail early; lays the files out once
                with _bar(plan, as_json) as advance:
                    summary = batch.run_on_dask(client, steward.settings, plan, advance)
    finally:
        steward.close()
    if as_json:
        print_json(summary.as_dict())
        return
    console.print(
        f"scored {summary.rows:,} rows of {summary.files} file(s) with {summary.model} "
        f"v{summary.version} in {summary.seconds:.1f}s ({summary.rows_per_s:,.0f} rows/s) "
        f"→ {summary.output}",
        highlight=False,
    )
