"""Rendering pages: one Jinja2 environment (autoescape always on), filters and headers.

Every user-provided string reaches HTML through this environment, so it is escaped;
the SVG drawings escape their labels themselves and hand back ``Markup``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from modelsteward import __version__
from modelsteward.identity.users import Principal

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Only our own scripts and styles; HTMX's inline indicator style is switched off in base.html.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def when(value: datetime | str | None) -> str:
    """A timestamp as people read it in a table: ``2025-11-23 07:03 UTC``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: datetime | str | None) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return value or ""


def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


def short_hash(value: str | None, length: int = 12) -> str:
    return (value or "")[:length] or "—"


def number(value: Any) -> str:
    """Metrics and params: compact, without pretending to more precision than stored."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return "—" if value is None else str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, iso=iso, filesize=filesize, short_hash=short_hash, num=number)
    env.globals["product_version"] = __version__
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page or fragment; ``principal`` is whoever the route's policy let in (or nobody)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    full = {"principal": principal, "nav": None, **(context or {})}
    return templates.TemplateResponse(
        request,
        template,
        full,
        status_code=status_code,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def is_htmx(request: Request) -> bool:
    """HTMX asks for a fragment; history restores ask for the whole page."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
