"""The /周报 /月报 PNG: Chinese renders (a CJK font is found and no glyph is missing) and the
picture carries the numbers it draws."""
from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

from PIL import Image

from bot.adapters.charts import cjk_font, figure, report_png
from handlers.charts import series
from handlers.reports import Report, Row

NAMES = ["李四", "王五", "欧阳娜娜", "赵六"]


def sample() -> Report:
    rows = tuple(Row(n, counted=i + 2, uncounted=1, registrations=i, deals=0.5 * i, units=i) for i, n in enumerate(NAMES))
    start = date(2026, 11, 1)
    return Report("阳光花园", start, start + timedelta(days=29), rows,
                  tuple((start + timedelta(days=i), i % 5) for i in range(30)))


def test_a_cjk_font_is_found_with_every_glyph_the_chart_uses():
    from matplotlib.ft2font import FT2Font
    font = FT2Font(cjk_font())
    chars = set("".join(NAMES) + "阳光花园至每位销售接待计名次登记成交每日来访")
    missing = [ch for ch in chars if font.get_char_index(ord(ch)) == 0]
    assert missing == []


def test_the_chart_renders_without_a_missing_glyph_and_carries_its_numbers(tmp_path):
    rep = sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # matplotlib warns "Glyph … missing from font(s)" for a box
        path = report_png(rep, tmp_path / "chart.png")
    img = Image.open(path)
    assert img.size[0] >= 1080 and img.size[1] >= img.size[0]           # a phone's full width, portrait
    drawn = json.loads(img.text["Description"])
    assert drawn == series(rep)
    assert drawn["names"] == NAMES and drawn["deals"] == [0, 0.5, 1, 1.5] and sum(drawn["walk_ins"]) == 60


def test_every_label_is_at_least_24_px_and_the_legend_covers_no_bar_or_number():
    from matplotlib import pyplot as plt
    from matplotlib.text import Text

    rep = sample()
    fig = figure(rep)
    try:
        texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
        small = [(t.get_text(), t.get_fontsize() * fig.dpi / 72) for t in texts if t.get_fontsize() * fig.dpi / 72 < 24]
        assert small == []
        bars = fig.axes[0]
        legend = bars.get_legend().get_window_extent()
        drawn = [p.get_window_extent() for p in bars.patches] + [
            t.get_window_extent() for t in bars.texts if t.get_text().strip()]      # the bars and their numbers
        assert len(drawn) == 2 * 3 * len(NAMES)
        assert [b for b in drawn if b.overlaps(legend)] == []
        assert legend.y0 >= bars.get_window_extent().y1 - 1                      # above the plot, outside it
    finally:
        plt.close(fig)


def test_the_handlers_chart_module_reads_no_environment_and_scans_no_fonts():
    """handlers/charts.py keeps the chart's data; finding fonts and drawing is bot/adapters/charts.py's."""
    import ast
    from pathlib import Path

    import handlers.charts
    tree = ast.parse(Path(handlers.charts.__file__).read_text(encoding="utf-8"))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m.split(".")[0] for m in modules} & {"os", "glob", "matplotlib", "PIL"} == set()
    assert "environ" not in {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def test_matplotlib_is_imported_only_when_a_chart_is_drawn():
    import subprocess
    import sys
    probe = "import sys, bot.bootstrap, bot.adapters.charts; print('matplotlib' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


def test_the_font_named_in_the_environment_given_comes_first(tmp_path):
    font = tmp_path / "mine.ttc"
    font.write_bytes(b"")
    assert cjk_font({"RECEPTION_CJK_FONT": str(font)}) == str(font)
    assert cjk_font({}) != str(font)
