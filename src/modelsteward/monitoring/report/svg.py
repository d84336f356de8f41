"""Inline SVG overlays of a feature's reference and current distributions.

Plain SVG elements (no script, no external fonts), so a report is one file that opens
offline. The reference is drawn as grey bars, the current window as a blue outline
(numeric) or blue bars beside the grey ones (categorical).
"""

from __future__ import annotations

from html import escape

from modelsteward.monitoring.report.distributions import FeatureDistribution

WIDTH, HEIGHT = 420, 160
LEFT, BOTTOM, TOP = 8, 22, 8
REF, CUR = "#9aa5b1", "#1f6feb"


def _number(value: float) -> str:
    return f"{value:.4g}"


def overlay(dist: FeatureDistribution) -> str:
    """One ``<svg>`` element drawing both sides on the same axes."""
    peak = max([*dist.reference, *dist.current, 1e-12])
    plot_w, plot_h = WIDTH - 2 * LEFT, HEIGHT - BOTTOM - TOP
    n = len(dist.reference)
    step = plot_w / max(n, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="overlay" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(dist.column)}: reference and current distributions">',
        f"<title>{escape(dist.column)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#444" stroke-width="1"/>',
    ]

    def height(share: float) -> float:
        return plot_h * share / peak

    if dist.kind == "numeric":
        outline = []
        for i, (r, c) in enumerate(zip(dist.reference, dist.current, strict=True)):
            x = LEFT + i * step
            parts.append(
                f'<rect class="ref" x="{x:.1f}" y="{TOP + plot_h - height(r):.1f}" '
                f'width="{max(step - 1, 0.5):.1f}" height="{height(r):.1f}" fill="{REF}"/>'
            )
            y = TOP + plot_h - height(c)
            outline.append(f"{x:.1f},{y:.1f} {x + step:.1f},{y:.1f}")
        parts.append(
            f'<polyline class="cur" points="{" ".join(outline)}" fill="none" '
            f'stroke="{CUR}" stroke-width="2"/>'
        )
        edges = dist.edges or [0.0, 1.0]
        parts.append(_label(LEFT, HEIGHT - 6, _number(edges[0]), "start"))
        parts.append(_label(LEFT + plot_w, HEIGHT - 6, _number(edges[-1]), "end"))
    else:
        bar = step / 2 - 1
        for i, (r, c) in enumerate(zip(dist.reference, dist.current, strict=True)):
            x = LEFT + i * step
            raw = (dist.categories or [""] * n)[i]
            name = escape(raw)
            parts.append(
                f'<rect class="ref" x="{x:.1f}" y="{TOP + plot_h - height(r):.1f}" '
                f'width="{max(bar, 0.5):.1f}" height="{height(r):.1f}" fill="{REF}">'
                f"<title>{name}: reference {r:.1%}</title></rect>"
            )
            parts.append(
                f'<rect class="cur" x="{x + bar + 1:.1f}" y="{TOP + plot_h - height(c):.1f}" '
                f'width="{max(bar, 0.5):.1f}" height="{height(c):.1f}" fill="{CUR}">'
                f"<title>{name}: current {c:.1%}</title></rect>"
            )
            if n <= 8:
                parts.append(_label(x + step / 2, HEIGHT - 6, raw[:12], "middle"))
    parts.append("</svg>")
    return "".join(parts)


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="#444" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )
