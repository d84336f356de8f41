"""``steward``: the command line entry point.

Errors print one line on stderr and exit non-zero (the exit code is the error's
class: 2 invalid input, 3 not allowed, 4 not found, 5 conflict, 6 integrity...).
"""

from __future__ import annotations

import os
from typing import Annotated

import httpx
import typer

from modelsteward.cli import admin, deploy, lifecycle, log, models, monitor, report, score, transfer
from modelsteward.cli.output import console, fail
from modelsteward.cli.tasks import tasks as task_inbox
from modelsteward.errors import StewardError

app = typer.Typer(
    name="steward",
    help="modelsteward: inventory, life cycles, serving, monitoring and governance of models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(models.app, name="models")
app.add_typer(admin.users, name="users")
app.add_typer(admin.audit, name="audit")
app.add_typer(transfer.keys, name="keys")
app.add_typer(deploy.deployments, name="deployments")
app.add_typer(lifecycle.lifecycles, name="lifecycles")
app.add_typer(lifecycle.lifecycle, name="lifecycle")
app.add_typer(task_inbox, name="tasks")
app.command("deploy")(deploy.deploy)
app.command("score")(score.score)
app.command("report")(report.report)
app.add_typer(monitor.monitors, name="monitors")
app.add_typer(log.log, name="log")
app.command("metrics")(monitor.metrics)
models.app.command("export")(transfer.export)
models.app.command("import")(transfer.import_)
app.command("import-mlflow")(transfer.import_mlflow)


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the API and web UI (embedded SQLite under STEWARD_HOME unless configured)."""
    import uvicorn

    from modelsteward.context import Steward
    from modelsteward.governance.identity import ensure_bootstrap_admin

    steward = Steward()  # migrate once and create the admin token before workers start
    if ensure_bootstrap_admin(steward):
        console.print(f"admin token written to {steward.settings.admin_token_path}")
    steward.close()
    console.print(f"modelsteward on http://{host}:{port}  (API docs: /api/v1/docs)")
    uvicorn.run(
        "modelsteward.api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@app.command()
def demo(
    exit_after: Annotated[bool, typer.Option("--exit", help="Seed the examples and exit.")] = False,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> None:
    """Register example models (idempotent), then serve them at http://127.0.0.1:8080."""
    from modelsteward.demo.seed import seed

    seed(progress=lambda line: console.print(line))
    if exit_after:
        return
    server(host=host, port=port, workers=1)


@app.command()
def fsck(
    gc: Annotated[
        bool, typer.Option("--gc", help="Also remove orphaned and stale staged files.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify every version's artifact hashes and the audit chain (local stores)."""
    from modelsteward.cli.integrity import run

    raise typer.Exit(run(gc=gc, as_json=as_json))


def main() -> None:
    try:
        app()
    except StewardError as exc:
        fail(exc.message)
        raise SystemExit(exc.exit_code) from None
    except httpx.ConnectError:
        url = os.environ.get("STEWARD_URL", "the server")
        fail(f"cannot reach {url}; is 'steward server' running there?")
        raise SystemExit(8) from None
