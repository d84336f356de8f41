"""Triton's binary tensor data extension: raw tensor bytes after the JSON of a V2 request.

tritonclient sends tensors this way by default (``binary_data=True``): the body is the
request's JSON, ``Inference-Header-Content-Length`` bytes long, followed by each binary
input's raw data in the order the inputs are listed; such an input carries
``parameters.binary_data_size`` instead of ``data``. Numbers are little-endian and
row-major, ``BOOL`` one byte per value, ``BYTES`` each element as a 4-byte little-endian
length and its bytes (read as UTF-8 text). Outputs asked for as binary
(``parameters.binary_data``, or the request's ``binary_data_output``) are answered the
same way. The whole body stays under ``STEWARD_MAX_JSON_BYTES``, like any JSON body.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from modelsteward.errors import BadRequest
from modelsteward.serving import codec
from modelsteward.serving.v2_tensors import DATATYPES

HEADER = "Inference-Header-Content-Length"
EXTENSION = "Triton's binary tensor extension"
BINARY_MEDIA_TYPE = "application/octet-stream"


def split_body(raw: bytes, header_length: str | None) -> tuple[bytes, bytes | None]:
    """The request's JSON and its binary part (None without the extension's header)."""
    if header_length is None:
        return raw, None
    text = header_length.strip()
    if not text.isdigit() or len(text) > 12:
        raise BadRequest(f"{HEADER} must be a whole number of bytes ({EXTENSION})")
    length = int(text)
    if not 0 < length <= len(raw):
        raise BadRequest(
            f"{HEADER} is {length} but the body has {len(raw)} bytes: the JSON header "
            f"must lie within the body ({EXTENSION})"
        )
    return raw[:length], raw[length:]


class BinaryPart:
    """The binary part of a request, read input by input in the order they are listed."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.offset = 0

    def take(self, label: str, size: object) -> bytes:
        if self.data is None:
            raise BadRequest(
                f"{label} carries binary data (binary_data_size) but the request has no "
                f"{HEADER} header: send it ({EXTENSION}), or send 'data' as JSON"
            )
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BadRequest(f"{label}: binary_data_size must be a whole number of bytes")
        end = self.offset + size
        if end > len(self.data):
            raise BadRequest(
                f"{label}: binary_data_size {size} runs past the end of the binary data "
                f"({len(self.data) - self.offset} bytes left)"
            )
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def finish(self) -> None:
        """Refuse bytes no input claimed: sizes and data disagree somewhere."""
        if self.data is not None and self.offset != len(self.data):
            left = len(self.data) - self.offset
            raise BadRequest(
                f"{left} bytes of binary data follow the inputs' binary_data_size ({EXTENSION})"
            )


def decode_binary(chunk: bytes, datatype: str, shape: list[int], label: str) -> np.ndarray:
    """One input's raw bytes as an array of ``shape``."""
    needed = math.prod(shape)
    if datatype == "BYTES":
        values = _byte_elements(chunk, label, needed)
        if len(values) != needed:
            got = len(values) if len(values) < needed else "more"
            raise BadRequest(f"{label}: shape needs {needed} BYTES elements, got {got}")
        array = np.empty(needed, dtype=object)
        array[:] = values
        return array.reshape(shape)
    dtype = DATATYPES[datatype].newbyteorder("<")
    if len(chunk) != needed * dtype.itemsize:
        raise BadRequest(
            f"{label}: shape needs {needed} {datatype} values ({needed * dtype.itemsize} "
            f"bytes), binary_data_size gives {len(chunk)}"
        )
    array = np.frombuffer(chunk, dtype=dtype)
    if datatype == "BOOL" and array.size and int(np.frombuffer(chunk, np.uint8).max()) > 1:
        raise BadRequest(f"{label} (BOOL) needs bytes 0 or 1")
    return array.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def _byte_elements(chunk: bytes, label: str, needed: int) -> list[str]:
    """Length-prefixed elements; stops at one more than ``needed`` (a shape mismatch)."""
    values: list[str] = []
    offset = 0
    while offset < len(chunk) and len(values) <= needed:
        if offset + 4 > len(chunk):
            raise BadRequest(f"{label} (BYTES) ends inside an element's 4-byte length")
        (size,) = struct.unpack_from("<I", chunk, offset)
        offset += 4
        if offset + size > len(chunk):
            raise BadRequest(f"{label} (BYTES) has an element longer than its data")
        try:
            values.append(chunk[offset : offset + size].decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(f"{label} (BYTES) holds an element that is not UTF-8 text") from None
        offset += size
    return values


def binary_outputs(body: Mapping[str, Any]) -> set[str] | bool:
    """The outputs to answer as binary: named ones, or True for all (``binary_data_output``
    with no outputs listed)."""
    outputs = body.get("outputs") or []
    parameters = body.get("parameters")
    every = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    if not outputs:
        return every
    chosen = set()
    for output in outputs:
        asked = _parameters(output).get("binary_data")
        if asked is True or (asked is None and every):
            chosen.add(output["name"])
    return chosen


def _parameters(item: Mapping[str, Any]) -> Mapping[str, Any]:
    found = item.get("parameters")
    return found if isinstance(found, Mapping) else {}


def encode_binary_response(response: dict[str, Any], binary: set[str] | bool) -> tuple[bytes, int]:
    """The response's JSON with the chosen outputs' data moved into a binary tail; returns
    the body and the length of its JSON part (the ``Inference-Header-Content-Length``)."""
    tail: list[bytes] = []
    for output in response["outputs"]:
        if not (binary is True or (isinstance(binary, set) and output["name"] in binary)):
            continue
        raw = _tensor_bytes(output.pop("data"), output["datatype"])
        output["parameters"] = {**output.get("parameters", {}), "binary_data_size": len(raw)}
        tail.append(raw)
    header = codec.dumps(response)
    return header + b"".join(tail), len(header)


def _tensor_bytes(data: list[Any], datatype: str) -> bytes:
    if datatype == "BYTES":
        parts = []
        for value in data:
            encoded = b"" if value is None else str(value).encode("utf-8")
            parts.append(struct.pack("<I", len(encoded)) + encoded)
        return b"".join(parts)
    dtype = DATATYPES[datatype].newbyteorder("<")
    return np.asarray(data, dtype=dtype).tobytes()
