"""A pipeline definition as stored: frozen, ``extra="forbid"``, each field checked.

The entry point is ``module:function``; ``source`` says where that module lies (an
uploaded file or folder in the artifact store, or a local path for development); ``data``
is a file path, a storage URI (checked like a version's training-data reference) or the
recent labelled production data of a deployment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelsteward.errors import InvalidInput
from modelsteward.names import check_name
from modelsteward.registry.specs import check_document, check_uri
from modelsteward.training.cron import parse_cron

ENTRY_POINT = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")
DATA_SUFFIXES = (".csv", ".parquet", ".pq")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalSource(Strict):
    """A folder or file on this server: for development, where code changes often."""

    kind: Literal["local"]
    path: Annotated[str, Field(min_length=1, max_length=4096)]

    @field_validator("path")
    @classmethod
    def _absolute(cls, v: str) -> str:
        path = Path(v)
        if not path.is_absolute() or ".." in path.parts:
            raise ValueError("a local source must be an absolute path without '..'")
        return v


class UploadedSource(Strict):
    """A ``.py`` file or a ``.tar.gz`` folder stored in the artifact store."""

    kind: Literal["artifact"]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    name: Annotated[str, Field(pattern=r"^[\w.-]+\.(py|tar\.gz|tgz)$", max_length=255)]


class FileData(Strict):
    """A CSV or Parquet file: a local path or a storage URI (s3://, gs://, https://...)."""

    kind: Literal["file"]
    location: Annotated[str, Field(min_length=1, max_length=2048)]

    @field_validator("location")
    @classmethod
    def _location(cls, v: str) -> str:
        if not v.lower().endswith(DATA_SUFFIXES):
            raise ValueError(f"data must be a file ending in {', '.join(DATA_SUFFIXES)}")
        if Path(v).is_absolute():
            if ".." in Path(v).parts:
                raise ValueError("a data path must not contain '..'")
            return v
        return check_uri(v)


class ProductionData(Strict):
    """The deployment's logged requests of the last ``window_hours`` that have a label;
    the label becomes the target column, the logged inputs the features."""

    kind: Literal["production"]
    deployment: Annotated[str, Field(min_length=1, max_length=128)]
    window_hours: Annotated[float, Field(gt=0, le=24 * 366)] = 24 * 7
    retrain_after_new_rows: Annotated[int, Field(ge=1, le=10**9)] | None = None
    """Request a run once this many requests got a label since the last run."""


class PipelineSpec(Strict):
    entry_point: Annotated[str, Field(max_length=512)]
    source: LocalSource | UploadedSource = Field(discriminator="kind")
    data: FileData | ProductionData = Field(discriminator="kind")
    target: Annotated[str, Field(min_length=1, max_length=256)]
    params: dict[Annotated[str, Field(max_length=128)], Any] = {}
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    timeout_s: Annotated[float, Field(gt=0, le=7 * 86400)] = 3600.0
    memory_mb: Annotated[int, Field(ge=256, le=1 << 22)] = 4096
    trust_reason: Annotated[str, Field(min_length=3, max_length=1024)]
    description: Annotated[str, Field(max_length=4096)] = ""
    schedule: Annotated[str, Field(max_length=128)] | None = None
    """A cron expression (UTC): retrain on this schedule; None for no schedule."""

    @field_validator("entry_point")
    @classmethod
    def _entry(cls, v: str) -> str:
        if not ENTRY_POINT.match(v):
            raise ValueError("entry_point must read 'module:function' (e.g. 'train:fit')")
        return v

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_cron(v)
            except InvalidInput as exc:
                raise ValueError(exc.message.removeprefix("schedule: ")) from None
        return v

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_document(v, "params")


def problems(exc: ValidationError) -> str:
    """Each problem as 'field: message', so the error names what to fix."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "pipeline"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_spec(data: Any) -> PipelineSpec:
    if not isinstance(data, dict):
        raise InvalidInput("a pipeline must be an object")
    try:
        return PipelineSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"invalid pipeline: {problems(exc)}") from None


def check_model_name(name: str) -> str:
    return check_name(name, what="model name")
