"""Charts as inline SVG strings: pure, no Flask, no CDN, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = 'font-family="sans-serif" font-size="12"'


def _num(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def bar_chart(
    data: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 480,
    bar: int = 22,
    colour: str = "#8a6d1d",
    unit: str = "",
    maximum: float | None = None,
) -> str:
    """Horizontal bars, one per (label, value), the value written at the end of the bar."""
    label_w, gap, top = 150, 6, 26
    height = top + len(data) * (bar + gap) + 4
    peak = maximum if maximum is not None else max((v for _, v in data), default=0)
    span = width - label_w - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
    ]
    for row, (label, value) in enumerate(data):
        y = top + row * (bar + gap)
        length = 0 if peak <= 0 else round(span * max(value, 0) / peak)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar * 0.7:.0f}" text-anchor="end" {FONT}>'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{length}" height="{bar}" fill="{colour}" rx="3"/>'
        )
        parts.append(
            f'<text x="{label_w + length + 4}" y="{y + bar * 0.7:.0f}" {FONT}>'
            f"{escape(_num(value))}{escape(unit)}</text>"
        )
    if not data:
        parts.append(f'<text x="0" y="{top + 14}" {FONT} fill="#6b7280">—</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    data: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 480,
    height: int = 200,
    colour: str = "#157347",
) -> str:
    """Vertical columns over time, (label, value) left to right; labels thinned to fit."""
    top, bottom, left = 26, 22, 8
    plot_h = height - top - bottom
    peak = max((v for _, v in data), default=0)
    slot = (width - left) / max(len(data), 1)
    every = max(1, round(len(data) / 8))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" {FONT} font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" '
        'stroke="#c9ced6"/>',
    ]
    for i, (label, value) in enumerate(data):
        h = 0 if peak <= 0 else round(plot_h * max(value, 0) / peak)
        x = left + i * slot
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{top + plot_h - h}" width="{slot * 0.7:.1f}" '
            f'height="{h}" fill="{colour}"><title>{escape(label)}: {escape(_num(value))}</title>'
            "</rect>"
        )
        if value:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + plot_h - h - 3}" text-anchor="middle" '
                f'font-family="sans-serif" font-size="10">{escape(_num(value))}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'font-family="sans-serif" font-size="10">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
