"""``training.requests``: a ``retrain.requested`` event starts a run of the model's pipeline.

Once per cluster, through the outbox. Requests are deduplicated by (model, cause, data
snapshot), so a burst of identical requests — redeliveries included — starts one run. A
model without a pipeline, or whose pipeline is not trusted, gets a ``retrain.skipped``
event with the reason instead of a failed delivery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelsteward.errors import StewardError
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber
from modelsteward.training.events import RetrainRequested
from modelsteward.training.runs import request_run

if TYPE_CHECKING:
    from modelsteward.context import Steward


def start_run(steward: Steward, event: DomainEvent) -> None:
    asked = RetrainRequested.model_validate(event.payload)
    try:
        request_run(
            steward,
            asked.requested_by,
            asked.model,
            cause=asked.cause,
            version=asked.version,
            remediation_id=asked.remediation_id,
        )
    except StewardError as exc:
        with steward.change("training") as change:
            change.record(
                "retrain.skipped",
                "model",
                asked.model,
                payload={
                    "model": asked.model,
                    "cause": asked.cause,
                    "reason": exc.message,
                    "event_id": event.id,
                },
            )


SUBSCRIBER = Subscriber(
    name="training.requests",
    description="Starts a run of the model's pipeline when retraining is requested.",
    events=frozenset({"retrain.requested"}),
    handle=start_run,
    timeout_s=300.0,
)
