"""Events of the training service: retraining asked for or skipped, pipelines defined,
runs started and finished."""

from __future__ import annotations

from typing import Any

from modelsteward.events.catalogue import EventType, Payload


class RetrainRequested(Payload):
    """Someone or something (a remediation, a schedule) asks for a model to be retrained."""

    model: str
    version: int | None = None
    cause: str
    requested_by: str
    remediation_id: int | None = None


class RetrainSkipped(Payload):
    model: str
    cause: str
    reason: str
    event_id: int | None = None


class PipelineChanged(Payload):
    model: str
    entry_point: str
    source: dict[str, Any]
    data: dict[str, Any]
    code_hash: str
    trust: dict[str, Any]


class RunChanged(Payload):
    """A run as it stands: ``status`` queued/running/succeeded/failed, the candidate's
    version once it succeeded, the reason once it failed."""

    run_id: int
    model: str
    status: str
    cause: str
    version: int | None = None
    reason: str | None = None


EVENTS = [
    EventType(
        "retrain.requested",
        "Retraining of a model was asked for (a remediation, a schedule, a person).",
        "model",
        RetrainRequested,
    ),
    EventType(
        "retrain.skipped",
        "A retraining request started no run (the model has no pipeline, or it is not trusted).",
        "model",
        RetrainSkipped,
    ),
    EventType(
        "pipeline.created",
        "A model's retraining pipeline was defined.",
        "pipeline",
        PipelineChanged,
    ),
    EventType(
        "pipeline.updated", "A model's retraining pipeline changed.", "pipeline", PipelineChanged
    ),
    EventType(
        "pipeline.trusted",
        "A risk manager granted the trust that lets a pipeline's code run.",
        "pipeline",
        PipelineChanged,
    ),
    EventType("run.queued", "A training run was queued.", "run", RunChanged),
    EventType("run.started", "A training run's process started.", "run", RunChanged),
    EventType(
        "run.succeeded",
        "A training run finished and registered its candidate version.",
        "run",
        RunChanged,
    ),
    EventType(
        "run.failed",
        "A training run failed (raised, timed out, ran out of memory, died); nothing registered.",
        "run",
        RunChanged,
    ),
]
