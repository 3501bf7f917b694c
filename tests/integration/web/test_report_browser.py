"""The report: the page renders its SVG charts with data (headless Chromium), and the page, the
/月报 PNG and the /导出 汇总 sheet show the same numbers for the same range."""
from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.integration.web.test_board_layout import SHOTS

DAY = [("张经理", "/开班 李四 王五 赵六"), ("李四", "接待"), ("李四", "到访 张三 13812345678"),
       ("王五", "接待"), ("王五", "到访 韩梅梅 13912345678"), ("李四", "成交 张三 13812345678 2套"),
       ("张经理", "/裁定 13812345678 归 李四 王五"), ("赵六", "接待"), ("赵六", "非客 同行"),
       ("张经理", "/补接 赵六"), ("张经理", "/补接 王五"), ("李四", "送客"), ("李四", "接待")]


def table(page) -> list[list[str]]:
    return page.eval_on_selector_all("#figures tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))")


def test_report_page_renders_charts_that_carry_the_figures(site, page, artifacts):
    for who, text in DAY:
        site.say(who, text)
    _, report = site.links()
    resp = page.goto(report)
    assert resp.status == 200
    rows = table(page)
    names = [r[0] for r in rows[:-1]]
    assert names == ["李四", "王五", "赵六", "钱七"] and rows[-1][0] == "合计"
    bars = page.eval_on_selector_all("svg.bars rect.bar", "rs => rs.map(r => [r.dataset.name, r.dataset.key, "
                                     "Number(r.dataset.value), r.getBBox().height])")
    assert len(bars) == 3 * len(names)
    col = {"counted": 1, "registrations": 3, "deals": 4}
    for name, key, value, height in bars:
        assert float(rows[names.index(name)][col[key]]) == value
        assert (height > 0) == (value > 0)              # drawn, not just labelled
    points = page.eval_on_selector_all("svg.line circle.point", "cs => cs.map(c => Number(c.dataset.value))")
    assert len(points) >= 1 and sum(points) == int(rows[-1][1]) + int(rows[-1][2])
    assert page.evaluate("document.querySelectorAll('script[src], link[href^=http]').length") == 0   # no CDN
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)


def test_page_png_and_workbook_show_the_same_numbers(site, page):
    for who, text in DAY:
        site.say(who, text)
    _, report = site.links()
    page.goto(report)                                         # this month, like /月报 and /导出
    rows = {r[0]: r for r in table(page)}
    [monthly] = site.say("张经理", "/月报")
    assert monthly.file and monthly.file.endswith(".png") and monthly.to is None     # into the group
    drawn = json.loads(Image.open(monthly.file).text["Description"])
    [export] = site.say("张经理", "/导出")
    sheet = load_workbook(export.file)["汇总"]
    cells = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(drawn["names"]) | {"合计"} == set(rows) == set(cells)
    for i, name in enumerate(drawn["names"]):
        page_row, book_row = rows[name], cells[name]
        assert [drawn["counted"][i], drawn["registrations"][i], drawn["deals"][i]] == [
            float(page_row[1]), float(page_row[3]), float(page_row[4])]
        for j in (1, 2, 3, 4, 5, 7, 8, 9):
            assert float(page_row[j]) == float(book_row[j]), (name, j)
        conv = book_row[6]
        assert page_row[6] == ("—" if conv is None else f"{conv:.0%}")
    li, wang = cells["李四"], cells["王五"]
    assert (li[4], li[5], wang[4], wang[5]) == (0.5, 1, 0.5, 1)          # the split deal: shares
    assert cells["赵六"][2] == 1 and cells["赵六"][8] == 1     # 非客: uncounted + a make-up (a second /补接 is refused)
    assert cells["王五"][8] == 1                               # /补接 王五
    assert "成交 1（2 套）" in monthly.text


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (390, 844)], ids=lambda wh: f"{wh[0]}x{wh[1]}")
def test_the_report_page_fits_the_screen_and_its_chart_labels_stay_legible(site, browser, size):
    """Nothing sticks out of the page: what is wider (the table, the charts on a phone) scrolls inside
    its own box and the page says so; every chart label is at least 12 px as drawn."""
    for who, text in DAY:
        site.say(who, text)
    _, report = site.links()
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(report)
    problems = page.evaluate("""() => {
      const W = innerWidth, bad = [];
      if (document.documentElement.scrollWidth > W) bad.push('page wider than the screen');
      for (const e of document.querySelectorAll('body *')) {
        const r = e.getBoundingClientRect();
        if (r.width && (r.left < -0.5 || r.right > W + 0.5) && !e.closest('.wide')) bad.push('outside ' + e.tagName);
      }
      for (const svg of document.querySelectorAll('svg.chart')) {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        for (const t of svg.querySelectorAll('text'))
          if (parseFloat(t.getAttribute('font-size')) * scale < 12) bad.push('label under 12 px: ' + t.textContent);
      }
      return bad;
    }""")
    assert problems == []
    phone = size[0] < 700
    assert page.locator(".swipe").is_visible() == phone
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"report-{size[0]}x{size[1]}.png"), full_page=True)
    ctx.close()
