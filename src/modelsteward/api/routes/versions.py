"""/api/v1/models/{name}/versions: register, read, download, archive, trust."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from modelsteward.api.policy import allow, steward_of
from modelsteward.errors import BadRequest, InvalidInput, NotFound
from modelsteward.governance.identity import Principal
from modelsteward.governance.roles import Permission
from modelsteward.registry import versions as registry
from modelsteward.registry.models import get_model
from modelsteward.registry.specs import VersionSpec, json_depth
from modelsteward.registry.views import VersionView
from modelsteward.store.artifacts import CHUNK, StoredBlob

router = APIRouter(prefix="/api/v1/models/{name}/versions", tags=["versions"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.INVENTORY_WRITE))]
Downloader = Annotated[Principal, Depends(allow(Permission.ARTIFACT_DOWNLOAD))]
Archiver = Annotated[Principal, Depends(allow(Permission.INVENTORY_ARCHIVE))]
Truster = Annotated[Principal, Depends(allow(Permission.TRUST_GRANT))]


def parse_spec(raw: str) -> VersionSpec:
    if len(raw) > 1024 * 1024:
        raise InvalidInput("the version spec is larger than 1 MiB")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise BadRequest(
            "the 'spec' form field is not valid JSON (or is nested too deeply)"
        ) from None
    if json_depth(data, 64) > 64:
        raise InvalidInput("the version spec is nested too deeply")
    try:
        return VersionSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "spec"
        raise InvalidInput(f"spec.{where}: {first['msg']}") from None


@router.post(
    "",
    status_code=201,
    response_model=VersionView,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["spec", "file"],
                        "properties": {
                            "spec": {"type": "string", "description": "VersionSpec as JSON"},
                            "file": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "one part per manifest entry, filename = entry name",
                            },
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
async def register_version(name: str, request: Request, who: Writer) -> VersionView:
    """Multipart upload: a ``spec`` field (JSON) and one ``file`` part per manifest entry."""
    steward = steward_of(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("send multipart/form-data with a 'spec' field and 'file' parts")
    await run_in_threadpool(get_model, steward, name)  # 404 before reading the upload
    async with request.form(max_files=256, max_fields=16) as form:
        raw_spec = form.get("spec")
        if not isinstance(raw_spec, str):
            raise InvalidInput("missing form field 'spec' (the version spec as JSON)")
        spec = parse_spec(raw_spec)
        uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        expected = {f.name: f.sha256 for f in spec.files}
        blobs: dict[str, StoredBlob] = {}
        for upload in uploads:
            file_name = upload.filename or ""
            if file_name not in expected:
                raise InvalidInput(f"uploaded file {file_name[:80]!r} is not in the spec's files")
            if file_name in blobs:
                raise InvalidInput(f"file {file_name[:80]!r} was uploaded twice")
            blobs[file_name] = await _store(request, upload, expected[file_name])
    return await run_in_threadpool(registry.register_version, steward, who, name, spec, blobs)


async def _store(request: Request, upload: UploadFile, expected_sha256: str | None) -> StoredBlob:
    steward = steward_of(request)
    upload.file.seek(0)
    reader = upload.file
    return await run_in_threadpool(
        steward.artifacts.put_stream,
        iter(lambda: reader.read(CHUNK), b""),
        expected_sha256=expected_sha256,
        max_bytes=steward.settings.max_upload_bytes,
    )


@router.get("", response_model=list[VersionView])
def list_versions(name: str, request: Request, who: Reader) -> list[VersionView]:
    return registry.list_versions(steward_of(request), name)


@router.get("/{ref}", response_model=VersionView)
def get_version(name: str, ref: str, request: Request, who: Reader) -> VersionView:
    return registry.get_version(steward_of(request), name, ref)


@router.get("/{ref}/files/{file_name:path}")
def download_file(
    name: str, ref: str, file_name: str, request: Request, who: Downloader
) -> StreamingResponse:
    """Stream one file of a version; the name is looked up in the manifest, never used as a path."""
    steward = steward_of(request)
    view = registry.get_version(steward, name, ref)
    entry = next((f for f in view.files if f.name == file_name), None)
    if entry is None:
        raise NotFound(f"{name} v{view.version} has no file {file_name[:80]!r}")
    chunks: Iterator[bytes] = steward.artifacts.iter_bytes(entry.sha256)
    safe_name = entry.name.rsplit("/", 1)[-1].encode("ascii", "replace").decode()
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "Content-Length": str(entry.size),
            "X-Content-SHA256": entry.sha256,
        },
    )


@router.post("/{ref}/archive", response_model=VersionView)
def archive_version(name: str, ref: str, request: Request, who: Archiver) -> VersionView:
    return registry.set_version_status(steward_of(request), who, name, ref, "archived")


@router.post("/{ref}/restore", response_model=VersionView)
def restore_version(name: str, ref: str, request: Request, who: Archiver) -> VersionView:
    return registry.set_version_status(steward_of(request), who, name, ref, "active")


@router.post("/{ref}/trust", response_model=VersionView)
def grant_trust(
    name: str,
    ref: str,
    request: Request,
    who: Truster,
    reason: Annotated[str, Body(embed=True, min_length=3, max_length=1024)],
) -> VersionView:
    return registry.grant_trust(steward_of(request), who, name, ref, reason)
