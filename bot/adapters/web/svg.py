"""Charts as inline SVG drawn on the server: no script, no CDN, nothing fetched by the browser.

Every bar and point carries its number (data-value, and a <title> tooltip) so a page reader,
or a test, sees what is drawn.
"""
from __future__ import annotations

from html import escape

from rules import texts as T

COLORS = {"counted": "#4e79a7", "registrations": "#59a14f", "deals": "#e15759"}
LABELS = T.CHART_SERIES


def bars(data: dict, width: int = 960, height: int = 360) -> str:
    """Grouped bars per salesperson: counted receptions, registrations, deals."""
    names, keys = data["names"], list(COLORS)
    top = max([1] + [v for k in keys for v in data[k]])
    left, bottom, plot_h = 40, 70, height - 110
    slot = (width - left - 10) / max(1, len(names))
    bw = slot * 0.8 / len(keys)
    out = [_open("bars", width, height, "每位销售的接待、登记、成交"), _axis(left, height - bottom, width, top, plot_h)]
    for i, name in enumerate(names):
        x0 = left + i * slot + slot * 0.1
        for j, k in enumerate(keys):
            v = data[k][i]
            h = plot_h * v / top
            x, y = x0 + j * bw, height - bottom - h
            out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" '
                       f'fill="{COLORS[k]}" data-name="{escape(name)}" data-key="{k}" data-value="{v}">'
                       f'<title>{escape(name)} {LABELS[k]}:{v}</title></rect>')
            if v:
                out.append(f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle">{v}</text>')
        out.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{height - bottom + 16}" font-size="13" '
                   f'text-anchor="middle">{escape(name)}</text>')
    out.append(_legend(left, height - 24))
    return "".join(out) + "</svg>"


def line(data: dict, width: int = 960, height: int = 260) -> str:
    """Walk-ins per day."""
    days, values = data["days"], data["walk_ins"]
    top = max([1] + values)
    left, bottom, plot_h = 40, 40, height - 70
    step = (width - left - 20) / max(1, len(days) - 1)
    pts = [(left + i * step, height - bottom - plot_h * v / top) for i, v in enumerate(values)]
    out = [_open("line", width, height, "每日来访"), _axis(left, height - bottom, width, top, plot_h)]
    out.append('<polyline fill="none" stroke="#f28e2b" stroke-width="2" points="'
               + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
    every = max(1, len(days) // 12)
    for i, ((x, y), d, v) in enumerate(zip(pts, days, values, strict=True)):
        out.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#f28e2b" data-day="{d}" '
                   f'data-value="{v}"><title>{d}:{v}</title></circle>')
        if i % every == 0:
            out.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">{d[5:]}</text>')
    return "".join(out) + "</svg>"


def _open(cls: str, w: int, h: int, title: str) -> str:
    return (f'<svg class="chart {cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="{escape(title)}"><text x="10" y="20" font-size="16" font-weight="bold">{escape(title)}</text>')


def _axis(left: int, base: int, width: int, top: float, plot_h: int) -> str:
    return (f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>'
            f'<text x="{left - 6}" y="{base - plot_h + 4}" font-size="11" text-anchor="end">{top:g}</text>'
            f'<text x="{left - 6}" y="{base}" font-size="11" text-anchor="end">0</text>')


def _legend(x: int, y: int) -> str:
    out = []
    for k, color in COLORS.items():
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="{y}" font-size="13">{LABELS[k]}</text>')
        x += 40 + 14 * len(LABELS[k])
    return "".join(out)
