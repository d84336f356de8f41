"""Refusing cross-site form posts: the second lock beside the SameSite=Strict cookie.

A state-changing page route also checks that the browser says the form came from this
site: ``Origin`` (sent with every POST by current browsers), or else ``Referer`` (the
pages send ``Referrer-Policy: same-origin``, so a same-site form always has one). A post
with neither, or from anywhere else, is refused before it can change anything.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from modelsteward.errors import Forbidden

REFUSED = "This form was not sent from a modelsteward page, so it was refused."


def _host_of(url: str) -> str | None:
    """``host[:port]`` of an http(s) URL, lower-cased; None for anything else (or ``null``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return parts.netloc.lower()


def same_origin(request: Request) -> None:
    """A dependency for POST page routes: raise ``Forbidden`` unless the form is our own.

    Only the host and port are compared, not the scheme, so a server behind a proxy
    that ends TLS (browser on https, app on http) still accepts its own forms.
    """
    host = request.headers.get("host", "").lower()
    origin = request.headers.get("origin")
    claimed = origin if origin is not None else request.headers.get("referer")
    if not host or claimed is None or _host_of(claimed) != host:
        raise Forbidden(REFUSED)
