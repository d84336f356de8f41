"""``documentation_complete``: the documentation a regulated model needs is on record.

A preset of ``metadata_present`` for the ``regulated`` life cycle: the model's
description, owner and use case, and the version's description, training data,
code reference, input schema and metrics (``REQUIRED``). Params: ``extra``, more
field names in ``metadata_present``'s vocabulary (e.g. ``metadata.limitations``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelsteward.lifecycle.checks.metadata_present import (
    FieldName,
    check_field_name,
    result_for,
)
from modelsteward.lifecycle.checks.registry import Check, CheckContext, CheckResult

REQUIRED = (
    "model_description",
    "owner",
    "use_case",
    "description",
    "training_data",
    "code",
    "input_schema",
    "metrics",
)


class DocumentationParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    extra: Annotated[list[FieldName], Field(max_length=64)] = []

    @field_validator("extra")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return [check_field_name(name) for name in value]


def run(context: CheckContext, params: DocumentationParams) -> CheckResult:
    names = list(dict.fromkeys([*REQUIRED, *params.extra]))
    return result_for(context, names)


CHECK = Check(
    name="documentation_complete",
    description="Model and version documentation for regulated use is filled in.",
    params_model=DocumentationParams,
    run=run,
)
