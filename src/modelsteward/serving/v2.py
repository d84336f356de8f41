"""Open Inference Protocol (KServe V2 REST): requests in, answers, responses and metadata out.

A tabular version takes one V2 input per column (shape ``[n]`` or ``[n, 1]``) or one
2-D input whose columns follow the schema's order; a tensor version takes one input.
Data travels as JSON ``data`` (flat or nested, row-major) or, with Triton's binary tensor
extension (tritonclient's default), as raw bytes after the JSON (``serving.v2_binary``);
outputs asked for as binary are answered so. Errors name the input, never its values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from modelsteward.errors import BadRequest
from modelsteward.serving import codec
from modelsteward.serving.labels import MAX_ID_CHARS
from modelsteward.serving.predict import Prediction, Predictor
from modelsteward.serving.runtime import LiveDeployment, LoadedVersion
from modelsteward.serving.scoring import PROBA_OUTPUT
from modelsteward.serving.v2_binary import (
    BinaryPart,
    binary_outputs,
    decode_binary,
    encode_binary_response,
    split_body,
)
from modelsteward.serving.v2_tensors import DATATYPES, encode_tensor
from modelsteward.serving.validation import (
    MAX_COLUMNS,
    Payload,
    Schema,
    cast_array,
    conform,
    names_of,
    schema_columns,
    tensor_column,
)

Tensors = list[tuple[str, np.ndarray]]


@dataclass(frozen=True, eq=False)
class V2Request:
    """A V2 inference request as sent: named tensors, not yet fitted to any schema."""

    tensors: Tensors
    request_id: str | None
    parameters: dict[str, Any]
    requested_outputs: list[str]

    def inputs_for(self, schema: Schema) -> Payload:
        """The tensors arranged and conformed to ``schema`` (a version's input schema)."""
        return _arrange(self.tensors, schema)


@dataclass(frozen=True)
class V2Answer:
    """A response body; ``header_length`` is its JSON part's length when binary outputs
    follow it (the ``Inference-Header-Content-Length`` to send), else None (all JSON)."""

    body: bytes
    header_length: int | None = None


@dataclass(frozen=True, eq=False)
class DecodedRequest:
    """An inference request made ready for a model: inputs conformed to its schema."""

    inputs: Payload
    request_id: str | None
    parameters: dict[str, Any]
    requested_outputs: list[str]


def infer(
    predictor: Predictor,
    name: str,
    raw: bytes,
    *,
    header_length: str | None = None,
    version: int | None = None,
    key: str | None = None,
    request_id: str | None = None,
    inline: bool = False,
) -> V2Answer:
    """Answer one V2 ``infer`` body for deployment ``name``. ``header_length`` is the
    request's ``Inference-Header-Content-Length`` (binary tensor extension), if sent.

    The deployment's routes are read once: requested outputs are checked against every
    answering version before predicting, and the answer is named from the version that
    gave it.
    """
    live = predictor.runtime.use(name)  # an unknown deployment is 404 whatever the body
    header, binary = split_body(raw, header_length)
    body = codec.parse_body(header)
    request = parse_request(body, binary)
    result = predictor.predict_on(
        live,
        partial(_checked_inputs, request, live),
        key=key,
        version=version,
        request_id=request.request_id or request_id,  # the log keeps the client's id
        inline=inline,
    )
    requested = request.requested_outputs
    # the names were checked before predicting; an output that differs from its version's
    # declared schema can still miss one (encode_response refuses it)
    named = _named(live.versions.get(result.version), result, requested)
    response = encode_response(
        name,
        str(result.version),
        request.request_id or result.request_id,
        named,
        requested=requested,
    )
    chosen = binary_outputs(body)
    if not chosen:
        return V2Answer(codec.dumps(response))
    return V2Answer(*encode_binary_response(response, chosen))


def _checked_inputs(request: V2Request, live: LiveDeployment, schema: Schema) -> Payload:
    """The request's inputs for ``schema``, once its requested outputs are checked (inside
    the prediction, so that a refused request is logged and counted like any other)."""
    _check_requested(live, request.requested_outputs)
    return request.inputs_for(schema)


def _check_requested(live: LiveDeployment, requested: list[str]) -> None:
    """Refuse, before predicting, outputs that some answering version does not produce."""
    if not requested:
        return
    for route in live.routes:
        if route["role"] == "shadow":
            continue
        loaded = live.versions[route["version"]]
        declared = [c["name"] for c in (loaded.output_schema or {}).get("columns") or []]
        produced = set(declared or ["predict"])
        if loaded.answer is not None:
            produced.add(PROBA_OUTPUT)
        unknown = [n for n in requested if n not in produced]
        if unknown:
            raise BadRequest(
                f"requested output(s) {names_of(unknown)} are not produced by "
                f"{loaded.model} v{loaded.version}; available: {names_of(sorted(produced))}"
            )


def _named(loaded: LoadedVersion | None, result: Prediction, requested: list[str]) -> Any:
    """A plain-array answer takes the output name ``GET /v2/models/{name}`` announces;
    a classifier's probabilities are the ``predict_proba`` output, when requested."""
    outputs = result.outputs
    declared = ((loaded.output_schema if loaded else None) or {}).get("columns") or []
    if len(declared) == 1 and not hasattr(outputs, "columns"):
        outputs = {declared[0]["name"]: outputs}
    if result.scored is not None and PROBA_OUTPUT in requested:
        named = outputs if isinstance(outputs, dict) else {"predict": outputs}
        return {**named, PROBA_OUTPUT: result.scored.probabilities}
    return outputs


def parse_request(body: object, binary: bytes | None = None) -> V2Request:
    """Check a V2 inference request body's structure and decode its tensors; ``binary``
    is the raw data after the JSON (binary tensor extension), None when there is none."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    items = body.get("inputs")
    if not isinstance(items, list) or not items:
        raise BadRequest("'inputs' must be a non-empty list")
    if len(items) > MAX_COLUMNS:
        raise BadRequest(f"a request may carry at most {MAX_COLUMNS:,} inputs")
    request_id, parameters = body.get("id"), body.get("parameters") or {}
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest("'id' must be a string")
    if request_id is not None and len(request_id) > MAX_ID_CHARS:
        raise BadRequest(f"'id' is at most {MAX_ID_CHARS} characters (labels name it)")
    if not isinstance(parameters, dict):
        raise BadRequest("'parameters' must be an object")
    outputs = body.get("outputs") or []
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise BadRequest("'outputs' must be a list of objects with a 'name'")
    part = BinaryPart(binary)
    tensors = [_decode_input(item, i, part) for i, item in enumerate(items)]
    part.finish()
    names = [name for name, _ in tensors]
    if len(set(names)) != len(names):
        raise BadRequest("input names must be unique")
    return V2Request(tensors, request_id, dict(parameters), [o["name"] for o in outputs])


def decode_request(body: object, schema: Schema, binary: bytes | None = None) -> DecodedRequest:
    """Parse a V2 inference request body and conform its inputs to ``schema``."""
    request = parse_request(body, binary)
    return DecodedRequest(
        inputs=request.inputs_for(schema),
        request_id=request.request_id,
        parameters=request.parameters,
        requested_outputs=request.requested_outputs,
    )


def _decode_input(item: object, index: int, part: BinaryPart) -> tuple[str, np.ndarray]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise BadRequest(f"input {index} must be an object with a 'name'")
    name = item["name"]
    label = f"input {name[:64]!r}"
    shape = item.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in shape
    ):
        raise BadRequest(f"{label} needs 'shape', a list of integers")
    if len(shape) > 32:
        raise BadRequest(f"{label} has more than 32 dimensions")
    if any(d < 0 for d in shape):
        raise BadRequest(f"{label} has a negative dimension in its shape")
    datatype = item.get("datatype")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise BadRequest(f"{label} has an unknown datatype; use one of {', '.join(DATATYPES)}")
    parameters = item.get("parameters")
    if isinstance(parameters, dict) and "binary_data_size" in parameters:
        if "data" in item:
            raise BadRequest(f"{label} has both 'data' and binary_data_size; send one")
        chunk = part.take(label, parameters["binary_data_size"])
        return name, decode_binary(chunk, datatype, shape, label)
    data = item.get("data")
    if not isinstance(data, list):
        raise BadRequest(f"{label} needs 'data', a flat or nested list")
    try:
        values = np.asarray(data, dtype=object if datatype == "BYTES" else None).ravel()
    except (ValueError, TypeError):
        raise BadRequest(f"{label} has ragged 'data'") from None
    needed = math.prod(shape)
    if values.size != needed:
        dims = ",".join(str(d) for d in shape)
        raise BadRequest(f"{label}: shape [{dims}] needs {needed} values, got {values.size}")
    array = cast_array(values, DATATYPES[datatype], field=f"{label} ({datatype})", error=BadRequest)
    return name, array.reshape(shape)


def _arrange(tensors: Tensors, schema: Schema) -> Payload:
    """Map named V2 tensors onto the schema: one tensor, a 2-D table, or one per column."""
    names = [str(c["name"]) for c in schema_columns(schema)]
    if len(tensors) == 1 and (not names or tensor_column(schema) is not None):
        return conform(tensors[0][1], schema)
    if tensor_column(schema) is not None:
        raise BadRequest(f"the model takes one tensor input; got {len(tensors)}")
    first_name, first = tensors[0]
    if len(tensors) == 1 and first.ndim == 2 and not (first_name in names and first.shape[1] == 1):
        if first.shape[1] != len(names):
            raise BadRequest(
                f"input {first_name[:64]!r} has {first.shape[1]} columns; "
                f"the model takes {len(names)} ({names_of(names)})"
            )
        return conform(pd.DataFrame(first, columns=names), schema)
    columns: dict[str, np.ndarray] = {}
    for name, array in tensors:
        if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] != 1):
            raise BadRequest(f"input {name[:64]!r} must have shape [n] or [n, 1] to fill a column")
        columns[name] = array.reshape(-1)
    if len({len(a) for a in columns.values()}) > 1:
        raise BadRequest("inputs have different numbers of rows")
    return conform(pd.DataFrame(columns), schema)


def encode_response(
    model_name: str,
    model_version: str,
    request_id: str | None,
    outputs: object,
    *,
    requested: list[str] | None = None,
) -> dict[str, Any]:
    """A V2 response: one output per DataFrame column (or mapping key), else ``predict``.

    ``requested`` keeps only the outputs a request asked for, in that order.
    """
    named = _named_outputs(outputs)
    if requested:
        unknown = [n for n in requested if n not in named]
        if unknown:
            raise BadRequest(
                f"requested output(s) {names_of(unknown)} are not produced; "
                f"available: {names_of(list(named))}"
            )
        named = {n: named[n] for n in requested}
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id:
        response["id"] = request_id
    response["outputs"] = [encode_tensor(name, values) for name, values in named.items()]
    return response


def _named_outputs(outputs: object) -> dict[str, Any]:
    if isinstance(outputs, pd.DataFrame):
        return {str(c): outputs[c] for c in outputs.columns}
    if isinstance(outputs, pd.Series):
        return {"predict" if outputs.name is None else str(outputs.name): outputs}
    if isinstance(outputs, Mapping):
        return {str(k): v for k, v in outputs.items()}
    return {"predict": outputs}
