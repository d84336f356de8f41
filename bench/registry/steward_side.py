"""modelsteward's registry on SQLite, through its service functions in process.

Runs in the project's virtual environment. ``fill`` stores one small skops model in
the content-addressed artifact store, then creates the models and registers every
version through ``create_model`` / ``register_version`` (validation and audit record
included), and starts each version's life cycle instance as a server does after a
registration (otherwise ``steward server``'s scheduler would be catching up on them,
200 every few seconds, during the timed HTTP calls). ``serve`` answers the driver's
timed calls: the same operations as ``mlflow_side.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from modelsteward import __version__  # noqa: E402
from modelsteward.config import Settings  # noqa: E402
from modelsteward.context import Steward  # noqa: E402
from modelsteward.errors import StewardError  # noqa: E402

try:
    from modelsteward.identity.users import SYSTEM
except ImportError:  # a baseline build from before identity moved into the foundation
    from modelsteward.governance.identity import SYSTEM  # type: ignore[no-redef]
from modelsteward.lifecycle.store import ensure_library  # noqa: E402
from modelsteward.registry.flavors.base import get_flavor  # noqa: E402
from modelsteward.registry.models import create_model, search_models  # noqa: E402
from modelsteward.registry.specs import FileEntry, ModelSpec, VersionSpec  # noqa: E402
from modelsteward.registry.versions import (  # noqa: E402
    get_version,
    list_versions,
    register_version,
)
from modelsteward.store.artifacts import StoredBlob  # noqa: E402

MODEL_FILE = "model.skops"
VERSION_SPEC = VersionSpec(
    flavor="sklearn",
    description="benchmark version",
    files=[FileEntry(role="model", name=MODEL_FILE)],
    tags={"origin": "bench"},
)


def home_of(workdir: Path) -> Path:
    return workdir / "steward"


def steward_for(workdir: Path) -> Steward:
    return Steward(Settings.from_env({"STEWARD_HOME": str(home_of(workdir))}))


def store_model_once(steward: Steward, workdir: Path) -> StoredBlob:
    """Save a small fitted model with the sklearn flavor and put it in the store once.

    Blobs are content-addressed, so every version reusing it is what re-uploading
    the same file would produce (like MLflow versions sharing one ``source``). The file
    stays in ``bench-model/`` for the HTTP client to upload.
    """
    state = home_of(workdir) / "bench-blob.json"
    if state.exists():
        return StoredBlob(**json.loads(state.read_text()))
    saved = home_of(workdir) / "bench-model"
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = pd.DataFrame(rng.random((200, 4)), columns=["a", "b", "c", "d"])
    labels = (features["a"] > 0.5).astype(int)
    saved.mkdir(parents=True, exist_ok=True)
    paths = get_flavor("sklearn").save(LogisticRegression().fit(features, labels), saved)
    blob = steward.artifacts.put_file(paths[0])
    state.write_text(json.dumps({"sha256": blob.sha256, "size": blob.size}))
    return blob


def start_life_cycles(steward: Steward) -> None:
    """Start every version's life cycle instance, as a server's dispatcher does after each
    registration (``version.registered`` through the outbox). A build from before the
    outbox (run as the baseline) started them with its catch-up sweep instead."""
    ensure_library(steward)
    try:
        from modelsteward.events.dispatcher import Dispatcher
    except ImportError:  # the baseline build
        from modelsteward.lifecycle.instances import start_pending_instances

        while start_pending_instances(steward, limit=1000):
            pass
        return
    dispatcher = Dispatcher(steward, scopes=("cluster",))
    if not dispatcher.settle(timeout_s=3600):
        raise SystemExit("the life cycle starts did not settle within an hour")


def fill(args: argparse.Namespace) -> None:
    workload = common.workload_of(args)
    started = time.perf_counter()
    steward = steward_for(args.workdir)
    blob = store_model_once(steward, args.workdir)
    counts = common.versions_per_model(workload.models, workload.versions)
    total, done = sum(counts), 0
    for i, count in enumerate(counts):
        name = common.model_name(i)
        spec = ModelSpec(name=name, description="benchmark model", tags={"team": common.team_of(i)})
        create_model(steward, SYSTEM, spec)
        for _ in range(count):
            register_version(steward, SYSTEM, name, VERSION_SPEC, {MODEL_FILE: blob})
            done += 1
            common.progress("steward fill", done, total, started)
    start_life_cycles(steward)
    steward.close()
    common.record_fill(
        args.workdir,
        "modelsteward",
        time.perf_counter() - started,
        f"{workload.models} models, {total} versions (every one through create_model / "
        "register_version, then its life cycle instance started)",
    )


def serve(args: argparse.Namespace) -> None:
    steward = steward_for(args.workdir)
    blob = store_model_once(steward, args.workdir)

    def get(target: tuple[str, int]) -> int:
        get_version(steward, target[0], target[1])
        return 1

    def search_name(text: str) -> int:
        return len(search_models(steward, q=text, limit=50).items)

    def search_tag(team: str) -> int:
        return len(search_models(steward, tag=f"team={team}", limit=50).items)

    def versions_of(name: str) -> int:
        return len(list_versions(steward, name))

    def register(name: str) -> int:
        register_version(steward, SYSTEM, name, VERSION_SPEC, {MODEL_FILE: blob})
        return 1

    calls: common.Calls = {
        "get": get,
        "search_name": search_name,
        "search_tag": search_tag,
        "list_versions": versions_of,
        "register": register,
    }
    common.serve(calls, common.workload_of(args), __version__)
    start_life_cycles(steward)  # untimed: the versions registered above, before the HTTP part
    steward.close()


def main() -> int:
    args = common.parse_args(__doc__ or "")
    try:
        get_flavor("sklearn")
    except StewardError as exc:
        print(
            f"steward side: {exc}. Reinstall the project so its flavor entry points are "
            "registered: .venv/bin/pip install -e .",
            file=sys.stderr,
        )
        return 2
    if args.phase == "fill":
        fill(args)
    else:
        serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
