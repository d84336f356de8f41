"""The same operations over HTTP, one client for both servers.

Runs in the project's virtual environment with httpx (one keep-alive connection),
against ``mlflow server`` and ``steward server`` started by ``run.sh`` on the stores
that ``fill`` wrote, each with one worker process. The client code is the same
loop for both, so differences are the servers'.

What a register request carries differs by design: MLflow's ``model-versions/create``
sends a JSON body naming a run's artifact folder already on the server; modelsteward's
``POST /versions`` uploads the model file (multipart), which the server hashes,
stores (content-addressed) and validates before recording the version.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

MODEL_FILE = "model.skops"
STEWARD_SPEC = json.dumps(
    {
        "flavor": "sklearn",
        "description": "benchmark version",
        "files": [{"role": "model", "name": MODEL_FILE}],
        "tags": {"origin": "bench"},
    }
)


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise SystemExit(
            f"{response.request.method} {response.request.url} -> "
            f"{response.status_code}: {response.text[:300]}"
        )
    return response.json()


def mlflow_calls(http: httpx.Client, workdir: Path) -> dict[str, Callable[[Any], int]]:
    logged = json.loads((workdir / "mlflow" / "source.json").read_text())
    api = "/api/2.0/mlflow"

    def get(target: tuple[str, int]) -> int:
        ok(
            http.get(
                f"{api}/model-versions/get", params={"name": target[0], "version": str(target[1])}
            )
        )
        return 1

    def search(filter_string: str) -> int:
        found = ok(
            http.get(
                f"{api}/registered-models/search",
                params={"filter": filter_string, "max_results": 50},
            )
        )
        return len(found.get("registered_models", []))

    def list_versions(name: str) -> int:
        found = ok(http.get(f"{api}/model-versions/search", params={"filter": f"name = '{name}'"}))
        return len(found.get("model_versions", []))

    def register(name: str) -> int:
        ok(
            http.post(
                f"{api}/model-versions/create",
                json={
                    "name": name,
                    "source": logged["source"],
                    "run_id": logged["run_id"],
                    "tags": [{"key": "origin", "value": "bench"}],
                    "description": "benchmark version",
                },
            )
        )
        return 1

    return {
        "get": get,
        "search_name": lambda text: search(f"name LIKE '%{text}%'"),
        "search_tag": lambda team: search(f"tags.team = '{team}'"),
        "list_versions": list_versions,
        "register": register,
    }


def steward_calls(http: httpx.Client, workdir: Path) -> dict[str, Callable[[Any], int]]:
    home = workdir / "steward"
    token = (home / "admin.token").read_text().strip()
    http.headers["Authorization"] = f"Bearer {token}"
    model_bytes = (home / "bench-model" / MODEL_FILE).read_bytes()
    api = "/api/v1/models"

    def get(target: tuple[str, int]) -> int:
        ok(http.get(f"{api}/{target[0]}/versions/{target[1]}"))
        return 1

    def search(params: dict[str, str]) -> int:
        return len(ok(http.get(api, params={**params, "limit": "50"}))["items"])

    def list_versions(name: str) -> int:
        return len(ok(http.get(f"{api}/{name}/versions")))

    def register(name: str) -> int:
        ok(
            http.post(
                f"{api}/{name}/versions",
                data={"spec": STEWARD_SPEC},
                files=[("file", (MODEL_FILE, model_bytes, "application/octet-stream"))],
            )
        )
        return 1

    return {
        "get": get,
        "search_name": lambda text: search({"q": text}),
        "search_tag": lambda team: search({"tag": f"team={team}"}),
        "list_versions": list_versions,
        "register": register,
    }


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", choices=["mlflow", "steward"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--server-version", default="")


def main() -> int:
    args = common.parse_args(__doc__ or "", options)
    with httpx.Client(base_url=args.url, timeout=60) as http:
        factory = mlflow_calls if args.system == "mlflow" else steward_calls
        common.serve(factory(http, args.workdir), common.workload_of(args), args.server_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
