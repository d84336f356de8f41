"""Pickle and joblib files: any Python object, at the price of running code to load it.

Never chosen automatically: a caller asks for ``flavor="pickle"`` (or imports an MLflow
model pickled by MLflow). Unpickling can run arbitrary code, so it needs an explicit
trust decision (``needs_trust`` is True). Validation never unpickles: it walks the
opcodes with :func:`pickletools.genops`, which only reads them, and records the globals
the file would import so a reviewer can see what trusting it means.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import pickletools
import zlib
from pathlib import Path
from typing import IO, Any

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput

FILE_NAME = "model.pkl"
_CHUNK = 1 << 20
_MAX_LINE = 64 * 1024
_MAX_GLOBALS = 200
_MAX_PROTOCOL = 5
_JOBLIB_ARRAY = "joblib.numpy_pickle.NumpyArrayWrapper"
_STRINGS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
}
_NO_PUSH = {"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "STOP"}


class _ZlibReader(io.RawIOBase):
    """Streams a joblib zlib file, failing on a stream that ends early."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self._inflate = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._pending and not self._inflate.eof:
            data = self._inflate.unconsumed_tail or self._file.read(_CHUNK)
            if not data:
                raise EOFError("compressed data ends early")
            self._pending = self._inflate.decompress(data, _CHUNK)
        size = min(len(target), len(self._pending))
        target[:size], self._pending = self._pending[:size], self._pending[size:]
        return size

    def close(self) -> None:
        self._file.close()
        super().close()


# joblib's compressors, by the bytes their files start with.
_MAGIC = {b"\xfd7zXZ": "xz", b"]\x00": "lzma", b"\x1f\x8b": "gzip", b"BZ": "bz2", b"x": "zlib"}


def _decompressing(kind: str, path: Path) -> Any:
    """A readable stream of the decompressed data; the caller closes it."""
    if kind in ("xz", "lzma"):
        return lzma.open(path)
    if kind == "gzip":
        return gzip.open(path)
    if kind == "bz2":
        return bz2.open(path)
    return io.BufferedReader(_ZlibReader(path))


class _Stream:
    """What genops reads: reads in chunks, lines of bounded length, a position."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.position, self._peeked = raw, 0, b""

    def peek(self, size: int) -> bytes:
        self._peeked = self.raw.read(size)
        return self._peeked

    def read(self, size: int) -> bytes:
        parts, self._peeked = [self._peeked[:size]], self._peeked[size:]
        size -= len(parts[0])
        while size > 0 and (chunk := self.raw.read(min(size, _CHUNK))):
            parts.append(chunk)
            size -= len(chunk)
        data = b"".join(parts)
        self.position += len(data)
        return data

    def readline(self) -> bytes:
        line = self.raw.readline(_MAX_LINE)
        self.position += len(line)
        return line

    def tell(self) -> int:
        return self.position


def _open(path: Path) -> tuple[str | None, IO[bytes]]:
    with path.open("rb") as handle:
        head = handle.read(6)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind, _decompressing(kind, path)
    return None, path.open("rb")


def _walk(stream: _Stream) -> tuple[list[str], bool]:
    """Globals the pickle names, and whether it is joblib's (whose arrays end the walk)."""
    found: set[str] = set()
    pushed: list[Any] = []
    memo: dict[int, Any] = {}
    arg: Any
    for opcode, arg, _ in pickletools.genops(stream):  # type: ignore[arg-type]
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            found.add(arg.replace(" ", "."))
        elif name == "STACK_GLOBAL" and len(pushed) >= 2:
            found.add(f"{pushed[-2]}.{pushed[-1]}")
        if name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
        elif name not in _NO_PUSH:
            pushed.append(arg if name in _STRINGS else None)
        del pushed[:-2]
        if _JOBLIB_ARRAY in found:
            return sorted(found), True
    return sorted(found), False


def inspect_pickle(path: Path) -> dict[str, Any]:
    """Facts about a pickle or joblib file, read without unpickling it."""
    compression, raw = _open(path)
    try:
        with raw:
            stream = _Stream(raw)
            head = stream.peek(2)
            if len(head) < 2 or head[0] != pickle.PROTO[0] or head[1] > _MAX_PROTOCOL:
                raise InvalidInput(f"{path.name} is not a pickle (protocol 2-5) or joblib file")
            found, joblib_arrays = _walk(stream)
            tail = b""
            while chunk := raw.read(_CHUNK):  # reading to the end checks compressed data
                tail = chunk
    except InvalidInput:
        raise
    except (ValueError, EOFError, OSError, lzma.LZMAError, zlib.error, MemoryError) as exc:
        raise InvalidInput(f"{path.name} is a truncated or corrupt pickle: {exc}") from exc
    if joblib_arrays and not tail.endswith(pickle.STOP):
        raise InvalidInput(f"{path.name} is a truncated joblib file")
    return {
        "format": "joblib" if joblib_arrays or compression else "pickle",
        "protocol": head[1],
        "compression": compression,
        "globals": found[:_MAX_GLOBALS],
    }


class PickleFlavor:
    name = "pickle"
    description = "pickle or joblib files (runs code when loaded: needs trust)"
    needs_trust = True
    self_contained = True

    def can_save(self, model: object) -> bool:
        return False  # never picked automatically; ask for flavor="pickle"

    def save(self, model: object, directory: Path) -> list[Path]:
        target = directory / FILE_NAME
        with target.open("wb") as handle:
            pickle.dump(model, handle, protocol=5)
        return [target]

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        return inspect_pickle(path)

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        if (meta.get("format") or inspect_pickle(path)["format"]) == "joblib":
            import joblib

            return joblib.load(path)
        with path.open("rb") as handle:
            return pickle.load(handle)
