"""Signed version bundles and the keys this instance trusts.

``GET .../versions/{ref}/bundle`` downloads one file that another instance imports
with ``POST /api/v1/bundles``; ``/api/v1/keys`` shows this instance's public key and
manages the keys whose bundles it accepts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from modelsteward.api.policy import allow, steward_of
from modelsteward.audit import signing
from modelsteward.errors import BadRequest, PayloadTooLarge
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry import bundle
from modelsteward.registry.views import VersionView

router = APIRouter(tags=["bundles"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.INVENTORY_WRITE))]
Downloader = Annotated[Principal, Depends(allow(Permission.ARTIFACT_DOWNLOAD))]
Admin = Annotated[Principal, Depends(allow(Permission.USERS_ADMIN))]

_BINARY = {"type": "string", "format": "binary"}
BUNDLE_MEDIA_TYPES = ("application/octet-stream", "application/x-tar", "application/gzip")


class KeyRing(BaseModel):
    instance: str
    trusted: list[signing.TrustedKeyView]


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    public_key: str = Field(min_length=1, max_length=128)


def _remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)


@router.get("/api/v1/models/{name}/versions/{ref}/bundle", response_class=FileResponse)
def download_bundle(
    name: str, ref: str, request: Request, who: Downloader, gzip: bool = False
) -> FileResponse:
    """The whole bundle is written (and every artifact re-hashed) before sending starts."""
    steward = steward_of(request)
    fd, path = tempfile.mkstemp(prefix="steward-bundle-", suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as out:
            manifest = bundle.export_version(steward, name, ref, out, compress=gzip)
    except BaseException:
        _remove(path)
        raise
    number = manifest["version"]["version"]
    return FileResponse(
        path,
        media_type="application/gzip" if gzip else "application/x-tar",
        filename=f"{name}-v{number}.bundle.tar" + (".gz" if gzip else ""),
        headers={"X-Bundle-Signer": manifest["source"]["public_key"]},
        background=BackgroundTask(_remove, path),
    )


@router.post(
    "/api/v1/bundles",
    status_code=201,
    response_model=VersionView,
    openapi_extra={
        "requestBody": {
            "content": {t: {"schema": _BINARY} for t in BUNDLE_MEDIA_TYPES},
            "required": True,
        }
    },
)
async def import_bundle(request: Request, who: Writer) -> VersionView:
    """The raw body is a bundle file; it is spooled to disk (bounded), then verified."""
    steward = steward_of(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in BUNDLE_MEDIA_TYPES:
        raise BadRequest("send the bundle file as the raw body (application/octet-stream)")
    limit = bundle.bundle_limit(steward.settings)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"bundle exceeds the limit of {limit} bytes")
    fd, path = tempfile.mkstemp(prefix="steward-import-", suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as out:
            received = 0
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise PayloadTooLarge(f"bundle exceeds the limit of {limit} bytes")
                await run_in_threadpool(out.write, chunk)
        return await run_in_threadpool(bundle.import_bundle, steward, who, Path(path))
    finally:
        _remove(path)


@router.get("/api/v1/keys", response_model=KeyRing)
def list_keys(request: Request, who: Reader) -> KeyRing:
    steward = steward_of(request)
    return KeyRing(
        instance=signing.public_key_text(steward.settings),
        trusted=signing.list_trusted_keys(steward),
    )


@router.post("/api/v1/keys", status_code=201, response_model=signing.TrustedKeyView)
def trust_key(body: NewKey, request: Request, who: Admin) -> signing.TrustedKeyView:
    return signing.trust_key(steward_of(request), who, body.name, body.public_key)


@router.delete("/api/v1/keys/{name}", response_model=signing.TrustedKeyView)
def untrust_key(name: str, request: Request, who: Admin) -> signing.TrustedKeyView:
    return signing.untrust_key(steward_of(request), who, name)
