"""A few SVG primitives for drawings made on the server; every label is escaped here."""

from __future__ import annotations

from markupsafe import Markup, escape


def fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def text(x: float, y: float, label: str, css: str, *, anchor: str = "middle") -> str:
    return (
        f'<text x="{fmt(x)}" y="{fmt(y)}" class="{css}" text-anchor="{anchor}">'
        f"{escape(label)}</text>"
    )


def title(label: str) -> str:
    return f"<title>{escape(label)}</title>"


def shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def document(
    width: float, height: float, body: list[str], *, label: str, css: str, defs: str = ""
) -> Markup:
    """A standalone inline ``<svg>`` with an accessible name."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" width="{fmt(width)}" '
        f'height="{fmt(height)}" viewBox="0 0 {fmt(width)} {fmt(height)}" role="img" '
        f'aria-label="{escape(label)}">{title(label)}{defs}{"".join(body)}</svg>'
    )
