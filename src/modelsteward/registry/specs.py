"""Validated shapes of what users send to the inventory.

These are the boundary: anything that passes here is safe to store. Free-form
documents (metadata, params) are bounded in size and nesting depth.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelsteward.names import check_name, check_relative_file_name, fully_unquoted

MAX_DOC_BYTES = 256 * 1024
MAX_DOC_DEPTH = 32
RISK_TIERS = ("low", "medium", "high", "critical")
COLUMN_TYPES = (
    "integer",
    "float",
    "boolean",
    "string",
    "category",
    "datetime",
    "binary",
    "tensor",
    "object",
)
URI_SCHEMES = (
    "s3",
    "gs",
    "gcs",
    "az",
    "abfs",
    "abfss",
    "hdfs",
    "http",
    "https",
    "dbfs",
    "git",
    "git+https",
    "git+ssh",
    "ssh",
    "runs",
    "models",
    "mlflow-artifacts",
)
TEST_TYPES = ("metric_min", "metric_max", "schema_present", "pytest")

Name = Annotated[str, Field(min_length=1, max_length=128)]
ShortText = Annotated[str, Field(max_length=4096)]


def json_depth(value: Any, limit: int = MAX_DOC_DEPTH) -> int:
    """Depth of a JSON-like value, computed without recursion (stops past ``limit``)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def check_document(value: dict[str, Any], what: str) -> dict[str, Any]:
    if json_depth(value) > MAX_DOC_DEPTH:
        raise ValueError(f"{what} is nested deeper than {MAX_DOC_DEPTH} levels")
    if len(json.dumps(value, default=str)) > MAX_DOC_BYTES:
        raise ValueError(f"{what} is larger than {MAX_DOC_BYTES // 1024} KiB")
    return value


def check_uri(value: str) -> str:
    """A reference to data or code elsewhere; never a path on this server."""
    decoded = fully_unquoted(value)
    if any(ord(c) < 32 for c in decoded):
        raise ValueError("URI contains control characters")
    scheme = urlsplit(decoded).scheme.lower()
    # A UNC share (\\host\share) and a drive letter (C:\data) are local paths on Windows.
    # dbfs:/ stays accepted: like s3://, it names storage elsewhere (a Databricks
    # workspace's file system), never a file on this server.
    drive = len(scheme) == 1 and decoded[1:2] == ":"
    if scheme == "file" or drive or decoded.lstrip().startswith(("/", "~", "\\")):
        raise ValueError("local file paths are not accepted as references; use a storage URI")
    if scheme and scheme not in URI_SCHEMES:
        raise ValueError(
            f"URI scheme {scheme!r} is not allowed; use one of {', '.join(URI_SCHEMES)}"
        )
    if ".." in decoded.replace("\\", "/").split("/"):
        raise ValueError("URI must not contain '..' segments")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _owner_name(value: str | None) -> str | None:
    """An owner is a user's name; empty means no owner (checked against users later)."""
    if value is None or value == "":
        return None
    return check_name(value, what="owner (a user name)")


class ModelSpec(Strict):
    name: Name
    description: ShortText = ""
    owner: Annotated[str, Field(max_length=128)] | None = None
    team: Annotated[str, Field(max_length=128)] = ""
    use_case: ShortText = ""
    risk_tier: Literal["low", "medium", "high", "critical"] = "medium"
    tags: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=256)]] = {}

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v, what="model name")

    @field_validator("owner")
    @classmethod
    def _owner(cls, v: str | None) -> str | None:
        return _owner_name(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > 64:
            raise ValueError("at most 64 tags")
        return v


class ModelUpdate(Strict):
    """The model's facts anyone who edits the inventory may change: not its owner,
    which separation of duties relies on (see ``OwnerTransfer``)."""

    description: ShortText | None = None
    team: Annotated[str, Field(max_length=128)] | None = None
    use_case: ShortText | None = None
    risk_tier: Literal["low", "medium", "high", "critical"] | None = None
    tags: (
        dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=256)]] | None
    ) = None

    @model_validator(mode="before")
    @classmethod
    def _not_the_owner(cls, data: Any) -> Any:
        if isinstance(data, dict) and "owner" in data:
            raise ValueError(
                "the owner is not changed by an update: transfer it with "
                "POST /api/v1/models/NAME/owner (permission models.transfer_ownership)"
            )
        return data


class OwnerTransfer(Strict):
    """A governed change of owner: to another user (or to none), with the reason."""

    owner: Annotated[str, Field(max_length=128)] | None
    reason: Annotated[str, Field(min_length=1, max_length=1000)]

    @field_validator("owner")
    @classmethod
    def _owner(cls, v: str | None) -> str | None:
        return _owner_name(v)


class ColumnSpec(Strict):
    name: Annotated[str, Field(min_length=1, max_length=256)]
    type: Literal[
        "integer",
        "float",
        "boolean",
        "string",
        "category",
        "datetime",
        "binary",
        "tensor",
        "object",
    ]
    dtype: Annotated[str, Field(max_length=32)] | None = None
    shape: list[int] | None = None
    nullable: bool = False


class SchemaSpec(Strict):
    """Columns of a table, or one tensor (``columns`` holds a single ``tensor`` entry)."""

    columns: Annotated[list[ColumnSpec], Field(min_length=1, max_length=10_000)]

    @model_validator(mode="after")
    def _unique(self) -> SchemaSpec:
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError("column names must be unique")
        return self


class TrainingDataRef(Strict):
    uri: Annotated[str, Field(min_length=1, max_length=2048)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    rows: Annotated[int, Field(ge=0)] | None = None
    columns: Annotated[list[str], Field(max_length=10_000)] | None = None
    profile: dict[str, Any] | None = None

    @field_validator("uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        return check_uri(v)

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else check_document(v, "training data profile")


class CodeRef(Strict):
    repository: Annotated[str, Field(max_length=2048)] | None = None
    commit: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{7,64}$")] | None = None
    entry_point: Annotated[str, Field(max_length=512)] | None = None

    @field_validator("repository")
    @classmethod
    def _repo(cls, v: str | None) -> str | None:
        return None if v is None else check_uri(v)


class Lineage(Strict):
    parent_version: Annotated[int, Field(ge=1)] | None = None
    datasets: Annotated[list[Annotated[str, Field(max_length=2048)]], Field(max_length=256)] = []
    run: Annotated[str, Field(max_length=512)] | None = None

    @field_validator("datasets")
    @classmethod
    def _datasets(cls, v: list[str]) -> list[str]:
        return [check_uri(u) for u in v]


class TestSpec(Strict):
    """A check shipped with the version that the life cycle's validation gate runs."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    type: Literal["metric_min", "metric_max", "schema_present", "pytest"]
    metric: Annotated[str, Field(max_length=128)] | None = None
    threshold: float | None = None
    file: Annotated[str, Field(max_length=255)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> TestSpec:
        if self.type in ("metric_min", "metric_max") and (
            self.metric is None or self.threshold is None
        ):
            raise ValueError(f"a {self.type} test needs 'metric' and 'threshold'")
        if self.type == "pytest" and not self.file:
            raise ValueError("a pytest test needs 'file', the name of an uploaded test file")
        return self


class Dependencies(Strict):
    python: Annotated[str, Field(max_length=32)] | None = None
    packages: dict[Annotated[str, Field(max_length=128)], Annotated[str, Field(max_length=64)]] = {}


class FileEntry(Strict):
    """How an uploaded part is used: the model file, source code, a test, or extra."""

    role: Literal["model", "source", "test", "extra"]
    name: Annotated[str, Field(min_length=1, max_length=255)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_relative_file_name(v)


class VersionSpec(Strict):
    flavor: Annotated[str, Field(min_length=1, max_length=32)]
    description: ShortText = ""
    files: Annotated[list[FileEntry], Field(min_length=1, max_length=256)]
    input_schema: SchemaSpec | None = None
    output_schema: SchemaSpec | None = None
    training_data: TrainingDataRef | None = None
    code: CodeRef | None = None
    dependencies: Dependencies = Dependencies()
    params: dict[Annotated[str, Field(max_length=128)], Any] = {}
    metrics: dict[Annotated[str, Field(max_length=128)], float] = {}
    metadata: dict[str, Any] = {}
    flavor_options: dict[str, Any] = {}
    lineage: Lineage = Lineage()
    tests: Annotated[list[TestSpec], Field(max_length=256)] = []
    tags: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=256)]] = {}
    trust_reason: Annotated[str, Field(min_length=3, max_length=1024)] | None = None

    @field_validator("params", "metadata", "flavor_options")
    @classmethod
    def _bounded(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_document(v, "document")

    @model_validator(mode="after")
    def _files(self) -> VersionSpec:
        names = [f.name for f in self.files]
        if len(names) != len(set(names)):
            raise ValueError("file names must be unique within a version")
        if sum(f.role == "model" for f in self.files) < 1:
            raise ValueError("a version needs at least one file with role 'model'")
        declared = {f.name for f in self.files if f.role == "test"}
        for test in self.tests:
            if test.type == "pytest" and test.file not in declared:
                raise ValueError(
                    f"test {test.name!r} names file {test.file!r}, which is not uploaded"
                )
        return self
