"""``emit_event``: publish a domain event (and its audit record) about the version.

Runs in the engine's transaction, so the event is on record exactly when the
transition is, and subscribers (webhooks, notifications) hear it after commit.
Params: ``name`` (dotted, e.g. ``retirement.announced``; names owned by services, such as
``version.*`` or ``deployment.*``, are refused so a definition cannot forge them) and
``payload``, a small document added to the event.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelsteward.lifecycle.actions.registry import Action, ActionContext, ActionResult
from modelsteward.registry.specs import check_document

RESERVED_PREFIXES = (
    "alert.",
    "alias.",
    "audit.",
    "deployment.",
    "environment.",
    "key.",
    "lifecycle.",
    "metric.",
    "model.",
    "pipeline.",
    "run.",
    "task.",
    "token.",
    "user.",
    "retrain.",
    "version.",
)


class EmitEventParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=128)]
    payload: dict[str, Any] = {}

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith(RESERVED_PREFIXES):
            raise ValueError(f"event {value!r} belongs to a service and cannot be emitted here")
        return value

    @field_validator("payload")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_document(value, "payload")


def run(context: ActionContext, params: EmitEventParams) -> ActionResult:
    assert context.change is not None  # Action.execute guarantees it for in_transaction
    subject = f"{context.model}/{context.version}"
    body = {
        **params.payload,
        "model": context.model,
        "version": context.version,
        "instance": context.instance_id,
    }
    context.change.record(params.name, "version", subject, after=body)
    return ActionResult(f"emitted {params.name}", {"event": params.name, "payload": body})


ACTION = Action(
    name="emit_event",
    description="Publish a domain event about the version, with the transition.",
    params_model=EmitEventParams,
    runs="in_transaction",
    run=run,
)
