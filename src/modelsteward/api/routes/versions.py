"""/api/v1/models/{name}/versions: register, read, download, archive, trust.

Handlers that return a view are ``async`` and hand the service call to the thread
pool themselves (one trip, where a plain ``def`` handler takes two: FastAPI validates
its response there).

Registering refuses a missing or archived model (404, 409) before anything is stored,
and before any complaint about the form. An upload larger than ``CHECK_FIRST_BYTES``
is refused before it is read; a smaller one is parsed first and the model checked in
the same trip to the thread pool that stores it, which saves a trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from modelsteward.api.downloads import file_response
from modelsteward.api.policy import allow, steward_of
from modelsteward.context import Steward
from modelsteward.errors import BadRequest, InvalidInput, StewardError
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry import versions as registry
from modelsteward.registry.files import version_file
from modelsteward.registry.specs import VersionSpec, json_depth
from modelsteward.registry.views import VersionView
from modelsteward.store.artifacts import CHUNK
from modelsteward.store.refused import removed_if_refused

router = APIRouter(prefix="/api/v1/models/{name}/versions", tags=["versions"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.INVENTORY_WRITE))]
Downloader = Annotated[Principal, Depends(allow(Permission.ARTIFACT_DOWNLOAD))]
Archiver = Annotated[Principal, Depends(allow(Permission.INVENTORY_ARCHIVE))]
Truster = Annotated[Principal, Depends(allow(Permission.TRUST_GRANT))]

# Uploads up to this size (what the form parser keeps in memory) are read before the model
# is checked; larger ones only after it.
CHECK_FIRST_BYTES = 1024 * 1024


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
    declared = request.headers.get("content-length", "")
    check_first = not declared.isdecimal() or int(declared) > CHECK_FIRST_BYTES
    if check_first:
        await run_in_threadpool(registry.check_registrable, steward, name)
    try:
        async with request.form(max_files=256, max_fields=16) as form:
            spec, uploads = _read_form(form)
            # One trip to the thread pool checks the model, stores the files, records the version.
            return await run_in_threadpool(
                _store_and_register, steward, who, name, spec, uploads, not check_first
            )
    except (StewardError, HTTPException):
        if not check_first:  # a missing or archived model is the answer, whatever else is wrong
            await run_in_threadpool(registry.check_registrable, steward, name)
        raise


def _read_form(form: FormData) -> tuple[VersionSpec, dict[str, UploadFile]]:
    """The spec, and the uploaded files by name (each one named in the spec, once)."""
    raw_spec = form.get("spec")
    if not isinstance(raw_spec, str):
        raise InvalidInput("missing form field 'spec' (the version spec as JSON)")
    spec = parse_spec(raw_spec)
    expected = {f.name for f in spec.files}
    uploads: dict[str, UploadFile] = {}
    for upload in form.getlist("file"):
        if not isinstance(upload, UploadFile):
            continue
        file_name = upload.filename or ""
        if file_name not in expected:
            raise InvalidInput(f"uploaded file {file_name[:80]!r} is not in the spec's files")
        if file_name in uploads:
            raise InvalidInput(f"file {file_name[:80]!r} was uploaded twice")
        uploads[file_name] = upload
    return spec, uploads


def _store_and_register(
    steward: Steward,
    who: Principal,
    name: str,
    spec: VersionSpec,
    uploads: dict[str, UploadFile],
    check_model: bool,
) -> VersionView:
    if check_model:
        registry.check_registrable(steward, name)
    expected = {f.name: f.sha256 for f in spec.files}
    with removed_if_refused(steward) as stored:
        blobs = {}
        for file_name, upload in uploads.items():
            blobs[file_name] = steward.artifacts.put_stream(
                _chunks(upload.file),
                expected_sha256=expected[file_name],
                max_bytes=steward.settings.max_upload_bytes,
            )
            stored.append(blobs[file_name])
        return registry.register_version(steward, who, name, spec, blobs)


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    reader.seek(0)
    while chunk := reader.read(CHUNK):
        yield chunk


@router.get("", response_model=list[VersionView])
async def list_versions(name: str, request: Request, who: Reader) -> list[VersionView]:
    return await run_in_threadpool(registry.list_versions, steward_of(request), name)


@router.get("/{ref}", response_model=VersionView)
async def get_version(name: str, ref: str, request: Request, who: Reader) -> VersionView:
    return await run_in_threadpool(registry.get_version, steward_of(request), name, ref)


@router.get("/{ref}/files/{file_name:path}")
async def download_file(
    name: str, ref: str, file_name: str, request: Request, who: Downloader
) -> StreamingResponse:
    """Stream one file of a version; the name is looked up in the manifest, never used as a path."""
    found = await run_in_threadpool(version_file, steward_of(request), name, ref, file_name)
    return file_response(found)


@router.post("/{ref}/archive", response_model=VersionView)
async def archive_version(name: str, ref: str, request: Request, who: Archiver) -> VersionView:
    return await run_in_threadpool(
        registry.set_version_status, steward_of(request), who, name, ref, "archived"
    )


@router.post("/{ref}/restore", response_model=VersionView)
async def restore_version(name: str, ref: str, request: Request, who: Archiver) -> VersionView:
    return await run_in_threadpool(
        registry.set_version_status, steward_of(request), who, name, ref, "active"
    )


@router.post("/{ref}/trust", response_model=VersionView)
async def grant_trust(
    name: str,
    ref: str,
    request: Request,
    who: Truster,
    reason: Annotated[str, Body(embed=True, min_length=3, max_length=1024)],
) -> VersionView:
    return await run_in_threadpool(
        registry.grant_trust, steward_of(request), who, name, ref, reason
    )
