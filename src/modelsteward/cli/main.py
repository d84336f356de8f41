"""``steward``: the command line entry point.

Errors print one line on stderr and exit non-zero (the exit code is the error's
class: 2 invalid input, 3 not allowed, 4 not found, 5 conflict, 6 integrity...).
"""

from __future__ import annotations

import os
import signal
from enum import StrEnum
from typing import Annotated

import httpx
import typer

from modelsteward import __version__
from modelsteward.cli import (
    admin,
    channels,
    deploy,
    events,
    lifecycle,
    log,
    models,
    monitor,
    report,
    score,
    training,
    transfer,
)
from modelsteward.cli.output import console, fail
from modelsteward.cli.tasks import tasks as task_inbox
from modelsteward.errors import InvalidInput, StewardError

app = typer.Typer(
    name="steward",
    help="modelsteward: inventory, life cycles, serving, monitoring and governance of models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"modelsteward {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """modelsteward: inventory, life cycles, serving, monitoring and governance of models."""


app.add_typer(models.app, name="models")
app.add_typer(admin.users, name="users")
app.add_typer(admin.audit, name="audit")
app.add_typer(transfer.keys, name="keys")
app.add_typer(deploy.deployments, name="deployments")
app.add_typer(lifecycle.lifecycles, name="lifecycles")
app.add_typer(lifecycle.lifecycle, name="lifecycle")
app.add_typer(task_inbox, name="tasks")
app.add_typer(events.events, name="events")
app.add_typer(channels.channels, name="channels")
app.add_typer(channels.notifications, name="notifications")
app.add_typer(training.pipelines, name="pipelines")
app.add_typer(training.runs, name="runs")
app.command("retrain")(training.retrain)
app.command("reproduce")(training.reproduce)
app.command("deploy")(deploy.deploy)
app.command("score")(score.score)
app.command("report")(report.report)
app.add_typer(monitor.monitors, name="monitors")
app.add_typer(log.log, name="log")
app.command("metrics")(monitor.metrics)
models.app.command("export")(transfer.export)
models.app.command("import")(transfer.import_)
app.command("import-mlflow")(transfer.import_mlflow)


def _exit_on_sigterm(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


class Background(StrEnum):
    worker = "worker"
    inline = "inline"
    off = "off"


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    background: Annotated[
        Background,
        typer.Option(
            help="Where background work (life cycle timers, monitor runs, log compaction) "
            "runs: 'worker', one process of its own at a lower CPU priority, so it never "
            "holds up requests; 'inline', a thread in each serving process; 'off', "
            "elsewhere (a `steward worker`)."
        ),
    ] = Background.worker,
) -> None:
    """Run the API and web UI (embedded SQLite under STEWARD_HOME unless configured)."""
    import uvicorn

    from modelsteward.background import start_worker, stop_worker
    from modelsteward.config import bind_hosts
    from modelsteward.context import Steward
    from modelsteward.identity.users import ensure_bootstrap_admin

    steward = Steward()  # migrate once and create the admin token before workers start
    if ensure_bootstrap_admin(steward):
        console.print(f"admin token written to {steward.settings.admin_token_path}")
    scheduled = steward.settings.scheduler_tick_s > 0
    steward.close()
    worker = None
    if scheduled and background is Background.worker:
        worker = start_worker()
        console.print(f"background work in process {worker.pid}")
    if background is not Background.inline:
        os.environ["STEWARD_SCHEDULER_SECONDS"] = "0"  # for the serving processes only
    if not os.environ.get("STEWARD_ALLOWED_HOSTS", "").strip():
        os.environ["STEWARD_ALLOWED_HOSTS"] = ",".join(bind_hosts(host))
    console.print(f"accepting Host: {os.environ['STEWARD_ALLOWED_HOSTS']}", highlight=False)
    console.print(f"modelsteward on http://{host}:{port}  (API docs: /api/v1/docs)")
    # uvicorn shuts down gracefully on SIGTERM, then raises it again to the handler found
    # before it: this one unwinds to ``finally``, so the worker is stopped, not orphaned.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            "modelsteward.api.server:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
        )
    finally:
        if worker is not None:
            stop_worker(worker)


@app.command()
def worker(
    nice: Annotated[
        int, typer.Option(help="Lower this process's CPU priority by this much (0-19).")
    ] = 0,
    parent: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run background work only (life cycle timers, monitor runs, log compaction), no HTTP.

    For servers started with `--background off` (or STEWARD_SCHEDULER_SECONDS=0): any
    number of workers may run against one store; each item is still done once.
    """
    import threading

    from modelsteward.background import run_worker
    from modelsteward.context import Steward

    if not 0 <= nice <= 19:
        raise InvalidInput("--nice takes 0 to 19")
    steward = Steward()
    tick = steward.settings.scheduler_tick_s
    if tick <= 0:
        steward.close()
        raise InvalidInput("STEWARD_SCHEDULER_SECONDS is 0, so a worker would do nothing; unset it")
    if nice:
        os.nice(nice)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    console.print(f"modelsteward worker: looking for due background work every {tick:g}s")
    try:
        run_worker(steward, stop, parent)
    finally:
        steward.close()


@app.command()
def demo(
    exit_after: Annotated[bool, typer.Option("--exit", help="Seed the examples and exit.")] = False,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> None:
    """Register example models (idempotent), then serve them at http://127.0.0.1:8080."""
    from modelsteward.config import Settings
    from modelsteward.demo.lifecycles import USERS_FILE
    from modelsteward.demo.seed import seed

    seed(progress=lambda line: console.print(line, highlight=False))
    home = Settings.from_env().home
    console.print(
        f"admin token: {home / 'admin.token'} (sign in with it, or set STEWARD_TOKEN)\n"
        f"demo people and their passwords: {home / USERS_FILE}",
        highlight=False,
    )
    if exit_after:
        return
    console.print(f"serving http://{host}:{port}", highlight=False)
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
