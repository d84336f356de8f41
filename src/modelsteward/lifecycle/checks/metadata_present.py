"""``metadata_present``: the listed facts about the model and version are filled in.

Params: ``fields``, names from ``FIELDS`` (model facts: ``owner``, ``team``,
``use_case``, ``risk_tier``, ``model_description``; version facts: ``description``,
``training_data``, ``code``, ``input_schema``, ``output_schema``, ``dependencies``,
``metrics``, ``params``, ``tests``, ``lineage``) or ``metadata.<key>`` for a key of
the version's free-form metadata. Empty strings, lists and documents count as missing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelsteward.lifecycle.checks.registry import Check, CheckContext, CheckResult

MODEL_FIELDS = {
    "owner": "owner",
    "team": "team",
    "use_case": "use_case",
    "risk_tier": "risk_tier",
    "model_description": "description",
}
VERSION_FIELDS = (
    "description",
    "training_data",
    "code",
    "input_schema",
    "output_schema",
    "dependencies",
    "metrics",
    "params",
    "tests",
    "lineage",
)
FIELDS = (*MODEL_FIELDS, *VERSION_FIELDS)
_METADATA_KEY = re.compile(r"^metadata\.[A-Za-z0-9_.-]{1,128}$")


def check_field_name(name: str) -> str:
    if name not in FIELDS and not _METADATA_KEY.fullmatch(name):
        raise ValueError(
            f"unknown field {name[:64]!r}; use one of {', '.join(FIELDS)} or metadata.<key>"
        )
    return name


FieldName = Annotated[str, Field(max_length=160)]


class MetadataPresentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: Annotated[list[FieldName], Field(min_length=1, max_length=64)]

    @field_validator("fields")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return [check_field_name(name) for name in value]


def filled(value: Any) -> bool:
    """Whether a value says something: not None, blank, or a container of nothing."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(filled(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(filled(v) for v in value)
    return True


def value_of(context: CheckContext, name: str) -> Any:
    if name in MODEL_FIELDS:
        return getattr(context.model, MODEL_FIELDS[name])
    if name.startswith("metadata."):
        return context.version.metadata.get(name.removeprefix("metadata."))
    return getattr(context.version, name)


def missing_fields(context: CheckContext, names: list[str]) -> list[str]:
    return [name for name in names if not filled(value_of(context, name))]


def result_for(context: CheckContext, names: list[str]) -> CheckResult:
    missing = missing_fields(context, names)
    details = {"fields": names, "missing": missing}
    if missing:
        return CheckResult(False, f"missing: {', '.join(missing)}", details)
    return CheckResult(True, f"all {len(names)} fields are filled in", details)


def run(context: CheckContext, params: MetadataPresentParams) -> CheckResult:
    return result_for(context, list(params.fields))


CHECK = Check(
    name="metadata_present",
    description="The listed model and version facts are filled in.",
    params_model=MetadataPresentParams,
    run=run,
)
