"""Registering a run's model as a candidate version, with its lineage.

The candidate goes through the registry's normal ``register_version``. Before that, its
output schema must match the champion's (the version it retrains): a candidate that
answers in another shape could not take the champion's place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward.errors import InvalidInput
from modelsteward.identity.roles import Role
from modelsteward.identity.users import Principal
from modelsteward.registry.specs import VersionSpec
from modelsteward.registry.versions import get_version, register_version
from modelsteward.training.tables import Run

if TYPE_CHECKING:
    from modelsteward.context import Steward


class CandidateRejected(InvalidInput):
    """The run produced a model that cannot stand in for the champion."""


def _shape(schema: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(c["name"], c["type"]) for c in (schema or {}).get("columns", [])]


def _matches(champion: dict[str, Any], candidate: dict[str, Any]) -> bool:
    """Same column names and types, and the same dtypes where the champion names one."""
    if _shape(champion) != _shape(candidate):
        return False
    pairs = zip(champion["columns"], candidate["columns"], strict=True)
    return all(not a.get("dtype") or a.get("dtype") == b.get("dtype") for a, b in pairs)


def check_output_schema(champion: dict[str, Any] | None, candidate: dict[str, Any]) -> None:
    if champion is None or _matches(champion, candidate):
        return
    raise CandidateRejected(
        f"the candidate's output schema {candidate['columns']} does not match the "
        f"champion's {champion['columns']}"
    )


def lineage_of(run: Run, result: dict[str, Any]) -> dict[str, Any]:
    """What the candidate records of how it was made (``metadata.training``)."""
    return {
        "run_id": run.id,
        "cause": run.cause,
        "remediation_id": run.remediation_id,
        "parent_version": run.parent_version,
        "data_hash": run.data_hash,
        "rows": result.get("rows"),
        "code_hash": run.spec.get("code_hash"),
        "entry_point": run.spec.get("entry_point"),
        "params": run.spec.get("params", {}),
        "seed": run.spec.get("seed"),
        "libraries": result.get("libraries", {}),
    }


def register_candidate(steward: Steward, run: Run, result: dict[str, Any], folder: Path) -> int:
    """Register the model saved in ``folder/model``; the answer is its version number."""
    champion = None
    if run.parent_version is not None:
        champion = get_version(steward, run.model, run.parent_version).output_schema
    check_output_schema(champion, result["output_schema"])
    blobs = {name: steward.artifacts.put_file(folder / "model" / name) for name in result["files"]}
    libraries = {k: v for k, v in result.get("libraries", {}).items() if k != "python"}
    spec = VersionSpec.model_validate(
        {
            "flavor": result["flavor"],
            "description": f"retrained by run {run.id} ({run.cause})"[:4096],
            "files": [{"role": "model", "name": name} for name in result["files"]],
            "input_schema": result["input_schema"],
            "output_schema": result["output_schema"],
            "code": {"entry_point": run.spec.get("entry_point")},
            "dependencies": {
                "python": result.get("libraries", {}).get("python"),
                "packages": libraries,
            },
            "params": run.spec.get("params", {}),
            "metrics": result.get("metrics", {}),
            "metadata": {"training": lineage_of(run, result)},
            "lineage": {"parent_version": run.parent_version, "run": f"run {run.id}"},
            "trust_reason": run.spec.get("trust_reason"),
        }
    )
    actor = Principal(run.requested_by, Role.DATA_SCIENTIST.value)
    return register_version(steward, actor, run.model, spec, blobs).version
