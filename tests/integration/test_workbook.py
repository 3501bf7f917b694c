"""/导出's workbook as a manager opens and prints it (issue 19 item 5): columns wide enough for every
value (no ###), phones as text, landscape pages one page wide, an auto-filter without the 合计 row,
and the chart in the same colours as the PNG and the web page."""
from __future__ import annotations

from openpyxl import load_workbook

from bot.adapters.xlsx import _width
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.charts import COLORS
from handlers.messages import Incoming
from tests.conftest import at

P = "阳光花园"


def say(app, who: str, text: str, when: str) -> list:
    return app.handle(Incoming("console", who, text, at(f"2026-11-27 {when}"), project=P))


def workbook(config_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = bootstrap(config_file(), db_url="sqlite://", clock=FakeClock(at("2026-11-27 07:00")))
    say(app, "张经理", "/开班 李四 王五", "09:00")
    say(app, "李四", "到访 欧阳娜娜 13812345678 想看三居室", "09:10")
    say(app, "李四", "送客", "09:40")
    say(app, "王五", "到访 王芳 15526896301", "10:00")
    say(app, "王五", "成交 王芳 15526896301 2套", "10:30")
    [out] = [o for o in say(app, "张经理", "/导出 2026-11-01 2026-11-30", "18:30") if o.file]
    return load_workbook(out.file)


def test_every_value_fits_its_column_and_phones_are_text(config_file, tmp_path, monkeypatch):
    wb = workbook(config_file, tmp_path, monkeypatch)
    phones = []
    for ws in wb.worksheets:
        for col in ws.iter_cols():
            width = ws.column_dimensions[col[0].column_letter].width
            for c in col:
                shown = str(c.value if c.value is not None else "")
                if hasattr(c.value, "hour"):            # as its number format prints it
                    shown = c.value.strftime("%Y-%m-%d %H:%M" if "hh" in c.number_format else "%Y-%m-%d")
                assert _width(shown) <= width, (ws.title, c.coordinate, shown, width)
                if col[0].value == "手机" and c.row > 1:
                    phones.append((c.value, c.number_format, c.data_type))
    assert ("13812345678", "@", "s") in phones and ("15526896301", "@", "s") in phones


def test_pages_are_landscape_one_page_wide_and_the_filter_leaves_the_total_out(config_file, tmp_path, monkeypatch):
    wb = workbook(config_file, tmp_path, monkeypatch)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    summary = wb["汇总"]
    assert summary.cell(summary.max_row, 1).value == "合计"
    assert summary.auto_filter.ref.endswith(str(summary.max_row - 1))


def test_the_chart_uses_one_colour_per_meaning(config_file, tmp_path, monkeypatch):
    [chart] = workbook(config_file, tmp_path, monkeypatch)["汇总"]._charts
    fills = ["#" + getattr(s.graphicalProperties.solidFill, "srgbClr", s.graphicalProperties.solidFill).lower()
             for s in chart.series]
    assert fills == [COLORS[k] for k in ("counted", "uncounted", "registrations", "deals")]
