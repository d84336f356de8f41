"""/metrics (Prometheus) and /api/v1/deployments/{name}/labels (ground truth)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from modelsteward.api.policy import allow
from modelsteward.api.routes.inference import json_body
from modelsteward.errors import BadRequest
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.serving.deployments import get_deployment

router = APIRouter(tags=["observability"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Labeller = Annotated[Principal, Depends(allow(Permission.LABELS_WRITE))]
FILE_TYPES = {
    "text/csv": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
_FILE = {"type": "string", "format": "binary"}


@router.get("/metrics")
def metrics(request: Request, who: Reader) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)


@router.post(
    "/api/v1/deployments/{name}/labels",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {}} | {t: {"schema": _FILE} for t in FILE_TYPES}
        }
    },
)
async def post_labels(name: str, request: Request, who: Labeller) -> dict[str, int]:
    """JSON (one object or a list), or a CSV / Parquet file: request_id or key, and label.

    The answer says how many were stored, and how many of them name a logged prediction
    (``matched``) or none yet (``unmatched``: a wrong id, or a prediction not logged)."""
    steward = request.app.state.steward
    await run_in_threadpool(get_deployment, steward, name, 1)  # 404 for unknown deployments
    store = request.app.state.labels
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FILE_TYPES:
        data = await request.body()
        if not data:
            raise BadRequest("the label file is empty")
        posted = await run_in_threadpool(store.post_file, name, data, FILE_TYPES[content_type])
    else:
        body = await json_body(request)
        items = body if isinstance(body, list) else [body]
        posted = await run_in_threadpool(store.post, name, items)
    log = request.app.state.prediction_log
    await run_in_threadpool(log.flush)  # a prediction just answered may still be buffered
    matched = await run_in_threadpool(store.matched, log, name, posted)
    return {"accepted": posted.accepted, "matched": matched, "unmatched": posted.accepted - matched}
