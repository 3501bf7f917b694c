"""Charts as inline SVG drawn on the server: no script, no CDN, nothing fetched by the browser.

Every bar and point carries its number (data-value, and a <title> tooltip) so a page reader,
or a test, sees what is drawn.
"""
from __future__ import annotations

import math
from html import escape

from handlers.charts import COLORS as PALETTE
from rules import texts as T

LABELS = T.CHART_SERIES
COLORS = {k: PALETTE[k] for k in LABELS}      # one colour per meaning, as in the PNG and the workbook


def bars(data: dict, width: int = 960, height: int = 360) -> str:
    """Grouped bars per salesperson: counted receptions, registrations, deals."""
    names, keys = data["names"], list(COLORS)
    top = _nice_top(max([1] + [v for k in keys for v in data[k]]))
    left, bottom, plot_h = 48, 70, height - 110
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
                out.append(f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" font-size="16" text-anchor="middle">{v}</text>')
        out.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{height - bottom + 20}" font-size="17" '
                   f'text-anchor="middle">{escape(name)}</text>')
    out.append(_legend(left, height - 24))
    return "".join(out) + "</svg>"


def line(data: dict, width: int = 960, height: int = 260) -> str:
    """Walk-ins per day."""
    days, values = data["days"], data["walk_ins"]
    top = _nice_top(max([1] + values))
    left, bottom, plot_h = 48, 40, height - 70
    step = (width - left - 20) / max(1, len(days) - 1)
    pts = [(left + i * step, height - bottom - plot_h * v / top) for i, v in enumerate(values)]
    out = [_open("line", width, height, "每日来访"), _axis(left, height - bottom, width, top, plot_h)]
    color = PALETTE["walk_ins"]
    out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
               + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
    every = max(1, len(days) // 10)
    for i, ((x, y), d, v) in enumerate(zip(pts, days, values, strict=True)):
        out.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}" data-day="{d}" '
                   f'data-value="{v}"><title>{d}:{v}</title></circle>')
        if i % every == 0:
            out.append(f'<text x="{x:.1f}" y="{height - bottom + 20}" font-size="16" text-anchor="middle">{d[5:]}</text>')
    return "".join(out) + "</svg>"


def _open(cls: str, w: int, h: int, title: str) -> str:
    return (f'<svg class="chart {cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="{escape(title)}"><text x="10" y="22" font-size="19" font-weight="bold">{escape(title)}</text>')


def _step(top: float) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving four to eight ticks up to `top`."""
    raw = max(top / 5, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def _nice_top(top: float) -> float:
    step = _step(top)
    return math.ceil(top / step) * step


def _axis(left: int, base: int, width: int, top: float, plot_h: int) -> str:
    """The base line, and a labelled grid line at every round step up to `top` (not only 0 and the maximum)."""
    step, out = _step(top), []
    for i in range(int(round(top / step)) + 1):
        v = i * step
        y = base - plot_h * v / top
        out.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                   f'stroke="{"#999" if i == 0 else "#e5e7eb"}"/>'
                   f'<text class="tick" x="{left - 6}" y="{y + 5:.1f}" font-size="16" text-anchor="end">{v:g}</text>')
    return "".join(out)


def _legend(x: int, y: int) -> str:
    out = []
    for k, color in COLORS.items():
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="{y}" font-size="17">{LABELS[k]}</text>')
        x += 40 + 18 * len(LABELS[k])
    return "".join(out)
