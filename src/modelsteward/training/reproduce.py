"""``steward reproduce NAME:VERSION``: train a version's recorded run again and compare.

The run recorded the pipeline as it was, its code hash and its data snapshot, so the
retraining uses the same code, data, parameters and seed. It registers nothing: it
reports whether the new artifact's hash and metrics equal the version's, and names each
difference.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward.errors import InvalidInput
from modelsteward.registry.versions import get_version
from modelsteward.training.execution import train
from modelsteward.training.runs import find_run

if TYPE_CHECKING:
    from modelsteward.context import Steward

REL_TOL = 1e-9


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reproduce(steward: Steward, model: str, version: int | str) -> dict[str, Any]:
    recorded = get_version(steward, model, version)
    run_id = (recorded.metadata.get("training") or {}).get("run_id")
    if run_id is None:
        raise InvalidInput(f"{model}:{recorded.version} was not made by a training run")
    with steward.db.read() as session:
        run = find_run(session, int(run_id))
    with tempfile.TemporaryDirectory(prefix="steward-reproduce-") as tmp:
        folder = Path(tmp)
        outcome = train(steward, run.spec, folder, run, renew=False)
        if not outcome.ok:
            return _report(model, recorded.version, run.id, [f"training failed: {outcome.reason}"])
        made = {name: _sha256(folder / "out" / "model" / name) for name in outcome.result["files"]}
    differences: list[str] = []
    wanted = {f.name: f.sha256 for f in recorded.files if f.role == "model"}
    for name, sha in sorted(wanted.items()):
        if made.get(name) != sha:
            differences.append(
                f"artifact {name}: {sha[:12]} recorded, {str(made.get(name))[:12]} now"
            )
    metrics = outcome.result.get("metrics", {})
    for name, value in sorted(recorded.metrics.items()):
        again = metrics.get(name)
        if again is None or not math.isclose(float(value), again, rel_tol=REL_TOL, abs_tol=1e-12):
            differences.append(f"metric {name}: {value} recorded, {again} now")
    for name in sorted(set(metrics) - set(recorded.metrics)):
        differences.append(f"metric {name}: not recorded, {metrics[name]} now")
    return _report(model, recorded.version, run.id, differences, made, metrics)


def _report(
    model: str,
    version: int,
    run_id: int,
    differences: list[str],
    artifacts: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
) -> dict[str, Any]:
    return {
        "model": model,
        "version": version,
        "run_id": run_id,
        "reproduced": not differences,
        "differences": differences,
        "artifacts": artifacts or {},
        "metrics": metrics or {},
    }
