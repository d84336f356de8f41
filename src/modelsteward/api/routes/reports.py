"""POST /api/v1/reports: a drift report of two uploaded data sets, as JSON or one HTML page.

The multipart body streams into a private temporary folder and is refused with 413 as
soon as it passes ``STEWARD_MAX_UPLOAD_BYTES`` (before reading, when Content-Length
says so). The report is computed in the thread pool and the folder removed afterwards:
a report stores nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from modelsteward.api.policy import allow, steward_of
from modelsteward.errors import BadRequest, InvalidInput, PayloadTooLarge
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.monitoring.report.build import Report
from modelsteward.monitoring.report.uploads import Upload, report_from_uploads
from modelsteward.store.artifacts import CHUNK

router = APIRouter(prefix="/api/v1", tags=["reports"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]

FILES = ("reference", "current")
FIELDS = ("model", "columns", "format")
FORMATS = ("json", "html", "json+html")
MAX_COLUMNS = 2_000
# A page that runs nothing and fetches nothing, even if it were shown from this origin.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_FORM_SCHEMA = {
    "type": "object",
    "required": ["current"],
    "properties": {
        "reference": {"type": "string", "format": "binary", "description": "CSV or Parquet"},
        "current": {"type": "string", "format": "binary", "description": "CSV or Parquet"},
        "model": {"type": "string", "description": "NAME:VERSION; its inputs are compared"},
        "columns": {"type": "string", "description": "comma-separated columns to compare"},
        "format": {"type": "string", "enum": list(FORMATS), "default": "json"},
    },
}


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(
                f"the upload exceeds the limit of {limit} bytes (STEWARD_MAX_UPLOAD_BYTES)"
            )
        yield chunk


def _save(upload: UploadFile, target: Path) -> None:
    upload.file.seek(0)
    with open(target, "wb") as out:
        shutil.copyfileobj(upload.file, out, CHUNK)


def _text_field(form: FormData, name: str) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"form field {name!r} was sent twice")
    if not values:
        return None
    if not isinstance(values[0], str):
        raise InvalidInput(f"form field {name!r} must be text, not a file")
    return values[0].strip() or None


async def _uploads(form: FormData, folder: Path) -> dict[str, Upload]:
    unknown = sorted({key for key, _ in form.multi_items()} - set(FILES) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unexpected form part {unknown[0][:40]!r}")
    found: dict[str, Upload] = {}
    for part in FILES:
        values = form.getlist(part)
        if len(values) > 1:
            raise InvalidInput(f"{part!r} was sent twice")
        if not values:
            continue
        upload = values[0]
        if not isinstance(upload, UploadFile):
            raise InvalidInput(f"{part!r} must be a file upload (CSV or Parquet)")
        target = folder / part  # named by the server; the client's name is only shown
        await run_in_threadpool(_save, upload, target)
        found[part] = Upload(part, target, upload.filename or "")
    if "current" not in found:
        raise InvalidInput("missing the 'current' file (CSV or Parquet)")
    return found


def _columns(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    names = list(dict.fromkeys(c.strip() for c in raw.split(",") if c.strip()))
    if len(names) > MAX_COLUMNS or any(len(n) > 256 for n in names):
        raise InvalidInput(f"columns: at most {MAX_COLUMNS} names of at most 256 characters")
    return names or None


def _format(raw: str | None, accept: str) -> str:
    if raw is None:
        return "html" if "text/html" in accept and "application/json" not in accept else "json"
    if raw not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}")
    return raw


def _json(report: Report, with_html: bool) -> str:
    if not with_html:
        return report.to_json(indent=None)
    body: dict[str, Any] = json.loads(report.to_json(indent=None))
    body["html"] = report.to_html()
    return json.dumps(body)


@router.post(
    "/reports",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": _FORM_SCHEMA}}}},
)
async def create_report(request: Request, who: Reader) -> Response:
    """Drift, data quality and per-feature distributions of ``current`` against
    ``reference`` (or, with ``model`` and no reference, its training-data profile)."""
    steward = steward_of(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("send multipart/form-data with 'reference' and 'current' files")
    limit = steward.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the upload exceeds the limit of {limit} bytes (STEWARD_MAX_UPLOAD_BYTES)"
        )
    folder = Path(await run_in_threadpool(tempfile.mkdtemp, prefix="steward-report-"))
    try:
        parser = MultiPartParser(
            request.headers, _limited(request, limit), max_files=len(FILES), max_fields=8
        )
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise BadRequest(f"the multipart body is malformed: {exc.message}") from None
        try:
            uploads = await _uploads(form, folder)
            model, columns = _text_field(form, "model"), _columns(_text_field(form, "columns"))
            chosen = _format(_text_field(form, "format"), request.headers.get("accept", ""))
        finally:
            await form.close()
        report = await run_in_threadpool(
            report_from_uploads,
            steward,
            uploads.get("reference"),
            uploads["current"],
            model=model,
            columns=columns,
        )
        if chosen == "html":
            page = await run_in_threadpool(report.to_html)
            return Response(
                page,
                media_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": PAGE_POLICY},
            )
        body = await run_in_threadpool(_json, report, chosen == "json+html")
        return Response(body, media_type="application/json")
    finally:
        await run_in_threadpool(shutil.rmtree, folder, True)
