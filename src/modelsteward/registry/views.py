"""What the inventory returns: plain, serialisable views of stored rows.

Each view is built from a mapping of column names to values, so an ORM object and a
row read with a plain (Core) query give the same view.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from modelsteward.store.tables import AliasChange, Model, ModelVersion, as_utc

MODEL_COLUMNS = (
    "name",
    "description",
    "owner",
    "team",
    "use_case",
    "risk_tier",
    "tags",
    "status",
    "last_version",
    "created_by",
    "created_at",
    "updated_at",
)
VERSION_COLUMNS = (
    "version",
    "flavor",
    "status",
    "description",
    "files",
    "input_schema",
    "output_schema",
    "training_data",
    "code",
    "dependencies",
    "params",
    "metrics",
    "meta",
    "lineage",
    "tests",
    "tags",
    "trust",
    "content_hash",
    "created_by",
    "created_at",
)


_utc = as_utc


class ModelView(BaseModel):
    name: str
    description: str
    owner: str | None
    """The owning user's name; None when the model has no owner."""
    team: str
    use_case: str
    risk_tier: str
    tags: dict[str, str]
    status: str
    latest_version: int
    aliases: dict[str, int]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, model: Model, aliases: dict[str, int]) -> ModelView:
        return cls.from_row({c: getattr(model, c) for c in MODEL_COLUMNS}, aliases)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], aliases: dict[str, int]) -> ModelView:
        return cls(
            name=row["name"],
            description=row["description"],
            owner=row["owner"],
            team=row["team"],
            use_case=row["use_case"],
            risk_tier=row["risk_tier"],
            tags=row["tags"],
            status=row["status"],
            latest_version=row["last_version"],
            aliases=aliases,
            created_by=row["created_by"],
            created_at=_utc(row["created_at"]),
            updated_at=_utc(row["updated_at"]),
        )


class FileView(BaseModel):
    role: str
    name: str
    sha256: str
    size: int


class VersionView(BaseModel):
    model: str
    version: int
    flavor: str
    status: str
    description: str
    files: list[FileView]
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    training_data: dict[str, Any] | None
    code: dict[str, Any] | None
    dependencies: dict[str, Any]
    params: dict[str, Any]
    metrics: dict[str, Any]
    metadata: dict[str, Any]
    lineage: dict[str, Any]
    tests: list[Any]
    tags: dict[str, Any]
    trust: dict[str, Any] | None
    aliases: list[str]
    content_hash: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, model_name: str, version: ModelVersion, aliases: list[str]) -> VersionView:
        return cls.from_row(model_name, {c: getattr(version, c) for c in VERSION_COLUMNS}, aliases)

    @classmethod
    def from_row(cls, model_name: str, row: Mapping[Any, Any], aliases: list[str]) -> VersionView:
        return cls(
            model=model_name,
            version=row["version"],
            flavor=row["flavor"],
            status=row["status"],
            description=row["description"],
            files=row["files"],
            input_schema=row["input_schema"],
            output_schema=row["output_schema"],
            training_data=row["training_data"],
            code=row["code"],
            dependencies=row["dependencies"],
            params=row["params"],
            metrics=row["metrics"],
            metadata=row["meta"],
            lineage=row["lineage"],
            tests=row["tests"],
            tags=row["tags"],
            trust=row["trust"],
            aliases=sorted(aliases),
            content_hash=row["content_hash"],
            created_by=row["created_by"],
            created_at=_utc(row["created_at"]),
        )


class AliasChangeView(BaseModel):
    alias: str
    from_version: int | None
    to_version: int | None
    changed_by: str
    changed_at: datetime

    @classmethod
    def of(cls, change: AliasChange) -> AliasChangeView:
        return cls(
            alias=change.alias,
            from_version=change.from_version,
            to_version=change.to_version,
            changed_by=change.changed_by,
            changed_at=_utc(change.changed_at),
        )


class Page(BaseModel):
    items: list[ModelView]
    total: int
    limit: int
    offset: int
