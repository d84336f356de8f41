"""Prediction endpoints: the Open Inference Protocol (V2) and a JSON/MLflow-style route.

Bodies must be JSON (415 otherwise: nothing is ever unpickled); a V2 body using Triton's
binary tensor extension is JSON followed by raw tensor bytes, which are read as numbers
or text by their declared datatype, never as objects. Errors on /v2 use the
protocol's ``{"error": "<message>"}`` shape, with ``code`` and ``request_id`` beside it.
Bodies are parsed and answers written with orjson. A small request for a deployment
whose model predicts cheaply is answered on the event loop; others go to a worker
thread, where concurrent requests are batched (see ``serving.costs``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from modelsteward.api.errors import request_id, with_retry_after
from modelsteward.api.params import Number
from modelsteward.api.policy import PUBLIC, allow
from modelsteward.errors import StewardError
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.serving import codec, v2
from modelsteward.serving.predict import Predictor, as_rows
from modelsteward.serving.runtime import ServingRuntime
from modelsteward.serving.v2_binary import BINARY_MEDIA_TYPE, HEADER
from modelsteward.serving.v2_tensors import model_metadata
from modelsteward.serving.validation import frame_from_mlflow, records_from_body

router = APIRouter(tags=["inference"])

Caller = Annotated[Principal, Depends(allow(Permission.PREDICT))]
JSON_TYPES = ("application/json", "application/x-ndjson")
Answer = TypeVar("Answer")
_AS_IS = frozenset(
    np.dtype(t) for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "float64")
)


class UnsupportedMediaType(StewardError):
    status, code, exit_code = 415, "unsupported_media_type", 2


def _predictor(request: Request) -> Predictor:
    return request.app.state.predictor


def _runtime(request: Request) -> ServingRuntime:
    return request.app.state.runtime


async def raw_json(request: Request, also: tuple[str, ...] = ()) -> bytes:
    """The body's bytes, once its content type says JSON (or says nothing, or is one of
    ``also``)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in (*JSON_TYPES, *also):  # V2 clients may send none
        raise UnsupportedMediaType(
            f"send application/json (got {content_type[:60] or 'no content type'}); "
            "binary and pickled bodies are never accepted"
        )
    return await request.body()


async def json_body(request: Request) -> Any:
    return codec.parse_body(await raw_json(request))


def json_response(content: Any) -> Response:
    return Response(codec.dumps(content), media_type="application/json")


async def answer(
    request: Request, name: str, size: int, run: Callable[..., Answer], **arguments: Any
) -> Answer:
    """``run(predictor, name, ..., inline=...)`` on the event loop when the body is small
    and the deployment predicts cheaply, else on a worker thread."""
    predictor = _predictor(request)
    arguments |= {"key": request.headers.get("x-request-key"), "request_id": request_id(request)}
    limit = predictor.inline_bytes(name)
    if limit and size <= limit:
        return run(predictor, name, **arguments, inline=True)
    return await run_in_threadpool(run, predictor, name, **arguments)


def _outputs(value: Any) -> Any:
    """What orjson writes as it is (whole-number and float64 arrays), else JSON-friendly rows.

    float32 goes through ``tolist`` so answers keep the digits they always had."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype in _AS_IS:
        return value
    return as_rows(value)


@router.post("/api/v1/deployments/{name}/predict")
async def predict(name: str, request: Request, who: Caller) -> Response:
    """JSON records (a list), or MLflow bodies (dataframe_split, dataframe_records, inputs...)."""
    raw = await raw_json(request)
    body = codec.parse_body(raw)
    decode = (
        (lambda schema: records_from_body(body, schema, raw))
        if isinstance(body, list)
        else (lambda schema: frame_from_mlflow(body, schema))
    )
    result = await answer(request, name, len(raw), Predictor.predict, decode=decode)
    return json_response(
        {
            "predictions": _outputs(result.outputs),
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
async def infer(name: str, request: Request, who: Caller) -> Response:
    return await _infer(name, None, request)


@router.post("/v2/models/{name}/versions/{version}/infer")
async def infer_version(name: str, version: Number, request: Request, who: Caller) -> Response:
    return await _infer(name, version, request)


async def _infer(name: str, version: int | None, request: Request) -> Response:
    header_length = request.headers.get(HEADER)
    try:
        # with the binary tensor extension the body is JSON and raw tensor bytes
        raw = await raw_json(request, (BINARY_MEDIA_TYPE,) if header_length is not None else ())
        answered = await answer(
            request,
            name,
            len(raw),
            v2.infer,
            raw=raw,
            header_length=header_length,
            version=version,
        )
    except StewardError as exc:
        return _v2_error(request, exc)
    if answered.header_length is None:
        return Response(answered.body, media_type="application/json")
    return Response(
        answered.body,
        media_type=BINARY_MEDIA_TYPE,
        headers={HEADER: str(answered.header_length)},
    )
