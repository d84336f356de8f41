"""The modelsteward side: register and deploy the models, and the log-switching server.

Runs in the project's virtual environment, against ``steward server`` processes that
``run.sh`` started on one ``STEWARD_HOME``.

``setup`` goes through the public doors only: the SDK's ``Client.register`` (with a
sample DataFrame, so the version has the input schema every request is checked
against) and ``POST /api/v1/deployments``, then follows each revision until applied.
Per model it creates:

- ``bench-<m>-production``: version 1, direct (the figures compared with the floor);
- ``bench-<m>-shadowed``: version 1 as champion and version 2 (the same fitted model,
  registered again) as a shadow, which gets a mirrored copy of every request.

``serve-toggle`` runs the same app as ``steward server`` with the prediction log on,
and each SIGUSR2 switches the log off or back on in that process (``Predictor._record``
replaced by a no-op, then restored); modelsteward has no setting for that. It exists
only to price the log, within one process: two servers differ in more than the log
(memory layout, which one a shared machine happens to favour). It writes its pid and
the log writer thread's id to ``--info``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

DEPLOY_TIMEOUT_S = 180.0


def deployment_of(model: str, variant: str) -> str:
    return f"bench-{model}-{variant}"


def deploy(http: httpx.Client, model: str, version: int, environment: str, strategy: str) -> None:
    body = {
        "model": f"bench-{model}",
        "version": str(version),
        "environment": environment,
        "strategy": strategy,
    }
    answer = http.post("/api/v1/deployments", json=body)
    if answer.status_code != 202:
        raise SystemExit(f"deploy {body} -> {answer.status_code}: {answer.text[:300]}")
    revision = answer.json()
    path = f"/api/v1/deployments/{revision['deployment']}/revisions/{revision['revision']}"
    deadline = time.monotonic() + DEPLOY_TIMEOUT_S
    while time.monotonic() < deadline:
        current = http.get(path).json()
        if current["status"] == "applied":
            return
        if current["status"] not in ("pending", "running"):
            raise SystemExit(f"rollout of {body} ended {current['status']}: {current['steps']}")
        time.sleep(0.2)
    raise SystemExit(f"rollout of {body} still not applied after {DEPLOY_TIMEOUT_S:.0f}s")


def setup(args: argparse.Namespace) -> None:
    from modelsteward.sdk.client import Client

    token = args.token_file.read_text().strip()
    sample = pd.DataFrame(common.rows(50, "train"), columns=common.FEATURES)
    with (
        Client(args.url, token) as client,
        httpx.Client(
            base_url=args.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http,
    ):
        for model in common.MODELS:
            started = time.perf_counter()
            with open(args.workdir / "models" / f"{model}.pkl", "rb") as source:
                fitted = pickle.load(source)
            for _ in (1, 2):
                client.register(fitted, name=f"bench-{model}", sample=sample)
            deploy(http, model, 1, "production", "direct")
            deploy(http, model, 1, "shadowed", "direct")
            deploy(http, model, 2, "shadowed", "shadow")
            seconds = time.perf_counter() - started
            label = common.MODEL_LABELS[model]
            print(f"  [steward] {label} registered and deployed in {seconds:.1f}s", flush=True)


def serve_toggle(args: argparse.Namespace) -> None:
    import uvicorn

    from modelsteward.api.app import create_app

    app = create_app()
    predictor: Any = app.state.predictor
    recording = predictor._record
    switched_off = {"now": False}

    def switch(*_: object) -> None:
        switched_off["now"] = not switched_off["now"]
        predictor._record = (lambda *_, **__: None) if switched_off["now"] else recording

    signal.signal(signal.SIGUSR2, switch)
    writer = predictor.log._thread.native_id  # bench-only: the log's writer thread
    args.info.write_text(json.dumps({"pid": os.getpid(), "writer_tid": writer}))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info", access_log=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    setup_parser = commands.add_parser("setup")
    setup_parser.add_argument("--workdir", type=Path, required=True)
    setup_parser.add_argument("--url", required=True)
    setup_parser.add_argument("--token-file", type=Path, required=True)
    toggle_parser = commands.add_parser("serve-toggle")
    toggle_parser.add_argument("--port", type=int, required=True)
    toggle_parser.add_argument("--info", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "setup":
        setup(args)
    else:
        serve_toggle(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
