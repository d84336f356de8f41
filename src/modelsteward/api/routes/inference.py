"""Prediction endpoints: the Open Inference Protocol (V2) and a JSON/MLflow-style route.

Bodies must be JSON (415 otherwise: nothing is ever unpickled). Errors on /v2 use the
protocol's ``{"error": "<message>"}`` shape, with ``code`` and ``request_id`` beside it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from modelsteward.api.errors import request_id, with_retry_after
from modelsteward.api.policy import PUBLIC, allow
from modelsteward.errors import BadRequest, StewardError
from modelsteward.governance.identity import Principal
from modelsteward.governance.roles import Permission
from modelsteward.serving.predict import Prediction, Predictor, as_rows
from modelsteward.serving.runtime import ServingRuntime
from modelsteward.serving.v2 import decode_request, encode_response, model_metadata
from modelsteward.serving.validation import frame_from_mlflow, frame_from_records

router = APIRouter(tags=["inference"])

Caller = Annotated[Principal, Depends(allow(Permission.PREDICT))]
JSON_TYPES = ("application/json", "application/x-ndjson")


class UnsupportedMediaType(StewardError):
    status, code, exit_code = 415, "unsupported_media_type", 2


def _predictor(request: Request) -> Predictor:
    return request.app.state.predictor


def _runtime(request: Request) -> ServingRuntime:
    return request.app.state.runtime


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in JSON_TYPES:  # V2 clients may send no type at all
        raise UnsupportedMediaType(
            f"send application/json (got {content_type[:60] or 'no content type'}); "
            "binary and pickled bodies are never accepted"
        )
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON (or is nested too deeply)") from None


@router.post("/api/v1/deployments/{name}/predict")
async def predict(name: str, request: Request, who: Caller) -> JSONResponse:
    """JSON records (a list), or MLflow bodies (dataframe_split, dataframe_records, inputs...)."""
    body = await json_body(request)
    decode = (
        (lambda schema: frame_from_records(body, schema))
        if isinstance(body, list)
        else (lambda schema: frame_from_mlflow(body, schema))
    )
    result = await run_in_threadpool(
        _predictor(request).predict,
        name,
        decode,
        key=request.headers.get("x-request-key"),
        request_id=request_id(request),
    )
    return JSONResponse(
        {
            "predictions": as_rows(result.outputs),
            "model": result.model,
            "version": result.version,
            "route": result.route,
            "request_id": result.request_id,
        }
    )


def _v2_error(request: Request, exc: StewardError) -> JSONResponse:
    response = JSONResponse(
        {"error": exc.message, "code": exc.code, "request_id": request_id(request)},
        status_code=exc.status,
    )
    return with_retry_after(response, exc)


@router.get("/v2/health/live", dependencies=[Depends(PUBLIC)])
def live() -> dict[str, bool]:
    return {"live": True}


@router.get("/v2/health/ready", dependencies=[Depends(PUBLIC)])
def ready(request: Request) -> JSONResponse:
    """Ready when every deployment this process should serve is loaded (with lazy loading:
    those a request has asked for), so a fresh replica can join the load balancer."""
    pending = _runtime(request).pending()
    return JSONResponse({"ready": not pending}, status_code=503 if pending else 200)


@router.get("/v2/models/{name}")
def metadata(name: str, request: Request, who: Caller) -> JSONResponse:
    try:
        live_deployment = _runtime(request).live(name)
    except StewardError as exc:
        return _v2_error(request, exc)
    champion = next(v for v in live_deployment.versions.values())
    return JSONResponse(
        model_metadata(
            name,
            [str(v) for v in live_deployment.versions],
            champion.input_schema,
            champion.output_schema,
            champion.flavor,
        )
    )


@router.get("/v2/models/{name}/ready")
def model_ready(name: str, request: Request, who: Caller) -> JSONResponse:
    """200 when loaded here, 503 while loading or failed, 404 for an unknown deployment."""
    runtime = _runtime(request)
    try:
        live_deployment = runtime.live(name)
    except StewardError as exc:
        return JSONResponse(
            {"name": name, "ready": False, "error": exc.message, "worker": runtime.worker},
            status_code=exc.status,
        )
    return JSONResponse(
        {
            "name": name,
            "ready": True,
            "revision": live_deployment.revision,
            "worker": runtime.worker,
        }
    )


@router.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request, who: Caller) -> JSONResponse:
    return await _infer(name, None, request)


@router.post("/v2/models/{name}/versions/{version}/infer")
async def infer_version(name: str, version: int, request: Request, who: Caller) -> JSONResponse:
    return await _infer(name, version, request)


async def _infer(name: str, version: int | None, request: Request) -> JSONResponse:
    try:
        body = await json_body(request)
        decoded: dict[str, Any] = {}

        def decode(schema: dict[str, Any] | None) -> Any:
            decoded["request"] = decode_request(body, schema)
            return decoded["request"].inputs

        result = await run_in_threadpool(
            _predictor(request).predict,
            name,
            decode,
            version=version,
            key=request.headers.get("x-request-key"),
            request_id=request_id(request),
        )
    except StewardError as exc:
        return _v2_error(request, exc)
    v2_id = decoded["request"].request_id or result.request_id
    return JSONResponse(encode_response(name, str(result.version), v2_id, _named(request, result)))


def _named(request: Request, result: Prediction) -> Any:
    """A plain-array answer takes the output name ``GET /v2/models/{name}`` announces."""
    try:
        loaded = _runtime(request).live(result.deployment).versions[result.version]
    except (StewardError, KeyError):
        return result.outputs
    declared = (loaded.output_schema or {}).get("columns") or []
    if len(declared) == 1 and not hasattr(result.outputs, "columns"):
        return {declared[0]["name"]: result.outputs}
    return result.outputs
