"""What the report charts draw (handlers keep the data; bot/adapters/charts.py draws the PNG for
/周报 and /月报, handed to the handler as `Ctx.draw_chart`, as bot/adapters/xlsx.py writes /导出).

COLORS is the one palette of every chart: the PNG, the web page's SVG and the workbook's Excel
chart use it (one colour per meaning).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from handlers.reports import Report, num

COLORS = {"counted": "#4e79a7", "uncounted": "#9aa5b1", "registrations": "#59a14f", "deals": "#e15759",
          "walk_ins": "#f28e2b"}

ChartDrawer = Callable[[Report, Path], Path]     # the report's chart as a PNG at the path given; returns it


def series(rep: Report) -> dict:
    """What the charts draw: per salesperson bars and the daily walk-ins line."""
    return {"names": [r.name for r in rep.rows],
            "counted": [r.counted for r in rep.rows],
            "registrations": [r.registrations for r in rep.rows],
            "deals": [num(r.deals) for r in rep.rows],
            "days": [d.isoformat() for d, _ in rep.daily],
            "walk_ins": [n for _, n in rep.daily]}
