"""The download response for a version's file, shared by the API and the web page.

The file name comes from the manifest, which may hold quotes or non-ASCII letters (and,
from older or imported records, control characters): the header carries a printable
ASCII fallback and the exact name percent-encoded (RFC 6266 ``filename*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from starlette.responses import StreamingResponse

from modelsteward.registry.files import VersionFile


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name's last path part, safe to put in a header."""
    base = file_name.rsplit("/", 1)[-1]
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in base)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


def file_response(file: VersionFile, headers: Mapping[str, str] | None = None) -> StreamingResponse:
    """Stream the file as an attachment, never rendered or sniffed by a browser."""
    entry = file.entry
    return StreamingResponse(
        file.chunks,
        media_type="application/octet-stream",
        headers={
            **(headers or {}),
            "Content-Disposition": content_disposition(entry.name),
            "Content-Length": str(entry.size),
            "X-Content-SHA256": entry.sha256,
            "X-Content-Type-Options": "nosniff",
        },
    )
