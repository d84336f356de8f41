"""Rolling out a revision, one recorded step at a time.

load -> verify (artifact hashes) -> smoke (predict on a plausible row) -> ready -> switch.
A failed step stops the rollout; the previously applied revision keeps serving and the
failure is recorded as an automatic rollback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from modelsteward.registry.versions import get_version
from modelsteward.serving import deployments
from modelsteward.serving.deployments import StepRecord
from modelsteward.serving.scoring import predictions_of
from modelsteward.serving.smoke import sample_input
from modelsteward.serving.views import RevisionView

if TYPE_CHECKING:
    from modelsteward.serving.runtime import LoadedVersion, ServingRuntime

ROLLOUT_ACTOR = "system:rollout"


class StepFailed(Exception):
    pass


def run_rollout(runtime: ServingRuntime, name: str, model: str, revision: RevisionView) -> bool:
    steward = runtime.steward
    loaded: dict[int, LoadedVersion] = {}

    def step(label: str, action: Callable[[], str]) -> None:
        started = datetime.now(UTC)
        try:
            detail = action()
        except Exception as exc:
            failed = StepRecord(label, "failed", f"{type(exc).__name__}: {exc}", started)
            deployments.record_step(steward, name, revision.revision, failed)
            raise StepFailed(f"{label}: {exc}") from exc
        deployments.record_step(
            steward, name, revision.revision, StepRecord(label, "ok", detail, started)
        )

    def load() -> str:
        begun = time.perf_counter()
        loaded.update(runtime.load_versions(model, revision.routes))
        return (
            f"loaded v{', v'.join(map(str, sorted(loaded)))} in {time.perf_counter() - begun:.2f}s"
        )

    def verify() -> str:
        checked = 0
        for number in loaded:
            for entry in get_version(steward, model, number).files:
                if not steward.artifacts.verify(entry.sha256):
                    raise ValueError(f"v{number} file {entry.name} does not match its sha256")
                checked += 1
        return f"{checked} file(s) match their sha256"

    def smoke() -> str:
        results = []
        for number, version in loaded.items():
            sample = sample_input(version.input_schema, version.training_data)
            if sample is None:
                results.append(f"v{number}: no input schema, skipped")
                continue
            output = np.asarray(predictions_of(version.run(sample)))
            if output.shape[0] != len(sample):
                raise ValueError(f"v{number} returned {output.shape[0]} rows for {len(sample)}")
            results.append(f"v{number}: ok")
        return "; ".join(results)

    def ready() -> str:
        return f"{len(loaded)} version(s) ready in {runtime.worker}"

    def switch() -> None:
        """Apply the revision with its step in one transaction, then route to it."""
        shares = ", ".join(f"v{r['version']} {r['role']} {r['weight']}%" for r in revision.routes)
        done = StepRecord("switch", "ok", f"traffic: {shares}", datetime.now(UTC))
        deployments.finish_revision(
            steward, ROLLOUT_ACTOR, name, revision.revision, ok=True, last_step=done
        )
        runtime.install(name, model, revision.revision, revision.routes)

    try:
        for label, action in (
            ("load", load),
            ("verify", verify),
            ("smoke", smoke),
            ("ready", ready),
        ):
            step(label, action)
    except StepFailed as exc:
        kept = StepRecord("rollback", "ok", "previous revision keeps serving", datetime.now(UTC))
        deployments.finish_revision(
            steward,
            ROLLOUT_ACTOR,
            name,
            revision.revision,
            ok=False,
            detail=str(exc),
            last_step=kept,
        )
        return False
    switch()
    return True
