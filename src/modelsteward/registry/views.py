"""What the inventory returns: plain, serialisable views of stored rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from modelsteward.store.tables import AliasChange, Model, ModelVersion


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ModelView(BaseModel):
    name: str
    description: str
    owner: str
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
        return cls(
            name=model.name,
            description=model.description,
            owner=model.owner,
            team=model.team,
            use_case=model.use_case,
            risk_tier=model.risk_tier,
            tags=model.tags,
            status=model.status,
            latest_version=model.last_version,
            aliases=aliases,
            created_by=model.created_by,
            created_at=_utc(model.created_at),
            updated_at=_utc(model.updated_at),
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
        return cls(
            model=model_name,
            version=version.version,
            flavor=version.flavor,
            status=version.status,
            description=version.description,
            files=[FileView(**f) for f in version.files],
            input_schema=version.input_schema,
            output_schema=version.output_schema,
            training_data=version.training_data,
            code=version.code,
            dependencies=version.dependencies,
            params=version.params,
            metrics=version.metrics,
            metadata=version.meta,
            lineage=version.lineage,
            tests=version.tests,
            tags=version.tags,
            trust=version.trust,
            aliases=sorted(aliases),
            content_hash=version.content_hash,
            created_by=version.created_by,
            created_at=_utc(version.created_at),
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
