"""One load generator for every system: fixed concurrency over keep-alive HTTP/1.1.

Standard library only (asyncio streams). Each of ``concurrency`` callers owns one
connection, opened before the clock starts, and sends the same prepared request again
and again until the window closes; a caller starts its next request as soon as its
answer is in (a closed loop). The request bytes are built once, so the client spends
tens of microseconds per request — far less than httpx would, which matters on two
cores where the client shares the machine with the server it measures.

A request counts only if it came back 200; anything else is counted as an error and
the first such answer is kept for the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    port: int
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    host: str = "127.0.0.1"

    def request(self) -> bytes:
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            "Accept: application/json",
            f"Content-Length: {len(self.body)}",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Window:
    """What one measurement window saw."""

    latencies_s: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    first_error: str | None = None


class ProtocolError(Exception):
    pass


class Connection:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.request = endpoint.request()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.endpoint.host, self.endpoint.port
        )

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = self.reader = None

    async def send(self) -> tuple[int, bytes]:
        """One request on this connection; returns the status and the body."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await self._chunked()
        else:
            body = await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            await self.close()
        return int(parts[1]), body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        chunks: list[bytes] = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


async def _window(endpoint: Endpoint, concurrency: int, seconds: float) -> Window:
    connections = [Connection(endpoint) for _ in range(concurrency)]
    await asyncio.gather(*(c.open() for c in connections))
    window = Window()
    started = time.perf_counter()
    deadline = started + seconds
    last_done = started

    async def caller(connection: Connection) -> None:
        nonlocal last_done
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                status, answer = await connection.send()
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                status, answer = 0, repr(exc).encode()
                await connection.close()
            done = time.perf_counter()
            if status == 200:
                window.latencies_s.append(done - sent)
                last_done = max(last_done, done)
            else:
                window.errors += 1
                if window.first_error is None:
                    window.first_error = f"{status}: {answer[:300].decode(errors='replace')}"
                if window.errors > 100:
                    return

    try:
        await asyncio.gather(*(caller(c) for c in connections))
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    window.seconds = last_done - started
    return window


def measure(endpoint: Endpoint, concurrency: int, seconds: float) -> Window:
    """Drive ``endpoint`` with ``concurrency`` closed-loop callers for ``seconds``."""
    return asyncio.run(_window(endpoint, concurrency, seconds))


def call_once(endpoint: Endpoint) -> tuple[int, Any]:
    """One request; the status and the decoded JSON answer (or the text)."""

    async def once() -> tuple[int, bytes]:
        connection = Connection(endpoint)
        try:
            return await connection.send()
        finally:
            await connection.close()

    status, raw = asyncio.run(once())
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def main() -> None:
    """Drive one endpoint from the command line (``profile.sh`` uses this)."""
    import argparse
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import common

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--format", default="records", help="records, dataframe_split, bentoml")
    parser.add_argument("--rows", default="single", choices=["single", "batch"])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--token-file", type=Path)
    args = parser.parse_args()
    token = args.token_file.read_text().strip() if args.token_file else ""
    endpoint = Endpoint(
        port=args.port,
        path=args.path,
        body=common.body(args.format, common.request_rows(args.rows)),
        headers=(("Authorization", f"Bearer {token}"),) if token else (),
    )
    seen = measure(endpoint, args.concurrency, args.seconds)
    rows = common.BATCH_ROWS if args.rows == "batch" else 1
    summary = common.summarise(seen.latencies_s, seen.seconds, rows)
    print(
        f"  {summary['n']} requests in {summary['seconds']:.1f}s: "
        f"{summary['req_per_s']:.0f} req/s, p50 {summary['p50_ms']:.2f} ms, "
        f"p99 {summary['p99_ms']:.2f} ms, errors {seen.errors}"
        + (f" (first: {seen.first_error})" if seen.first_error else "")
    )


if __name__ == "__main__":
    main()
