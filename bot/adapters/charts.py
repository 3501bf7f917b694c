"""The report chart as a PNG (matplotlib, offline), for /周报 and /月报 in chat: the chart port's
production side (handlers/charts.py says what is drawn, `ChartDrawer`; the bootstrap hands
`report_png` to the App, as it hands bot/adapters/xlsx.py's writer).

Chinese labels need a CJK font: Debian's fonts-noto-cjk (installed by .ci/run) or any font
named in RECEPTION_CJK_FONT. The numbers drawn are also written into the PNG's metadata
("Description", JSON of `series`), so a test can read back what the picture shows.

Legible on a phone at full width: 1080 × 1350 px, every label at least 24 px (18 pt at 100 dpi),
the legend above the plot, clear of the bars. The colours are handlers.charts.COLORS, the one
palette of every chart (the web page's SVG and the workbook's Excel chart use it too).
matplotlib is imported only when a chart is drawn (start-up time).
"""
from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from handlers.charts import COLORS, series
from handlers.reports import Report
from rules import texts as T

FONT_PATTERNS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/**/NotoSansCJK*.ttc",
                 "/usr/share/fonts/**/NotoSansSC*.[ot]tf", "/usr/share/fonts/**/SourceHanSans*.tt[cf]",
                 "/usr/share/fonts/**/wqy-*.ttc", "/System/Library/Fonts/PingFang.ttc",
                 "C:/Windows/Fonts/msyh.ttc")
WIDTH_IN, HEIGHT_IN, DPI = 10.8, 13.5, 100      # 1080 × 1350 px
LABEL_PT = 18                                    # 25 px at DPI


class NoCJKFont(RuntimeError):
    """No font with Chinese glyphs was found: the chart would show boxes."""


def cjk_font(env: Mapping[str, str] | None = None) -> str:
    """Path of a font with Chinese glyphs (RECEPTION_CJK_FONT first, then well-known places)."""
    env = os.environ if env is None else env
    named = env.get("RECEPTION_CJK_FONT")
    if named and Path(named).is_file():
        return named
    return _installed_font()


@cache
def _installed_font() -> str:
    for pattern in FONT_PATTERNS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    raise NoCJKFont(T.CHART_NO_FONT)


def report_png(rep: Report, path: Path) -> Path:
    """Draw the bars (接待/登记/成交 per salesperson) and the daily line into `path` (a `ChartDrawer`)."""
    from matplotlib import pyplot as plt

    fig = figure(rep)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Description": json.dumps(series(rep), ensure_ascii=False)})
    plt.close(fig)
    return path


def figure(rep: Report):
    """The chart as a matplotlib Figure, laid out (the caller saves and closes it)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = cjk_font()
    font_manager.fontManager.addfont(font)
    family = font_manager.FontProperties(fname=font).get_name()
    data = series(rep)
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False, "font.size": LABEL_PT}):
        fig, (bars, line) = plt.subplots(2, 1, figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, height_ratios=(3, 2),
                                         layout="constrained")
        _bars(bars, data)
        _line(line, data)
        fig.suptitle(T.CHART_TITLE.format(project=rep.project, start=rep.start, end=rep.end), fontsize=LABEL_PT + 4)
        fig.canvas.draw()                            # the layout is final: sizes and places can be read
    return fig


def _bars(ax, data: dict) -> None:
    from matplotlib.ticker import MaxNLocator
    n, w = len(data["names"]), 0.27
    xs = list(range(n))
    for i, key in enumerate(T.CHART_SERIES):
        rects = ax.bar([x + (i - 1) * w for x in xs], data[key], w, label=T.CHART_SERIES[key], color=COLORS[key])
        ax.bar_label(rects, fontsize=LABEL_PT if n <= 8 else LABEL_PT - 4, padding=2)
    ax.set_xticks(xs, data["names"], rotation=45 if n > 5 else 0, ha="right" if n > 5 else "center")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(y=0.15)                               # room above the tallest bar for its label
    ax.set_title(T.CHART_BARS, pad=LABEL_PT * 2.6)
    # above the plot, outside it: the legend never covers a bar or its number
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _line(ax, data: dict) -> None:
    from matplotlib.ticker import MaxNLocator
    days = [d[5:] for d in data["days"]]
    ax.plot(days, data["walk_ins"], marker="o", color=COLORS["walk_ins"])
    if len(days) <= 14:                              # a number per point while they stay legible
        for x, y in zip(days, data["walk_ins"], strict=True):
            ax.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center")
    step = max(1, len(days) // 6)
    ax.set_xticks(range(0, len(days), step), days[::step])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(T.CHART_LINE)
    ax.set_ylim(bottom=0, top=max([1] + data["walk_ins"]) * 1.25)
    ax.spines[["top", "right"]].set_visible(False)
