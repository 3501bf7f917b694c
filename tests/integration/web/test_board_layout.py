"""Issue 19 item 4: the board in headless Chromium at 1920×1080, 1366×768 (TVs) and 390×844 (a phone),
with 4, 12 and 24 members, one of them with a 10-character name, some receiving, away, holding a
make-up, and the next-up /指派-ed from the end of the queue.

Checked in the page: every element's bounding box lies inside the viewport (on a phone: inside its
width, the page scrolls), no name or detail is clipped, every member is shown (or a sign says how many
are not), on a TV queue names are at least 4.5 vh and details at least 3 vh, on a phone one column.
Each layout is saved as a PNG: under tests/artifacts, or docs/screenshots with SCREENSHOTS=1
(`make screenshots`).
"""
from __future__ import annotations

import os

import pytest

from tests.clock import TZ, WALL
from tests.conftest import ROOT
from tests.integration.web.conftest import ARTIFACTS, Site
from tests.waits import patience

LONG = "欧阳纳兰容若慕容雪晴"          # 10 characters
NAMES = ["陈静", "林峰", "周敏", "吴刚", "郑伟", "王芳", "刘洋", "杨帆", "黄磊", "赵雷", "孙丽", "朱琳",
         "胡军", "高远", "何平", "罗兰", "梁宇", "宋佳", "谢楠", "唐宁", "韩梅", "冯晨", "邓超"]
SIZES = [(1920, 1080), (1366, 768), (390, 844)]
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("SCREENSHOTS") else ARTIFACTS

# Every problem the page has, as text: boxes outside the viewport, clipped text, small type.
CHECK = """([tv]) => {
  const W = innerWidth, H = innerHeight, bad = [];
  const what = e => (e.id ? '#' + e.id : e.tagName + '.' + e.className) + ' «' + e.textContent.slice(0, 20) + '»';
  for (const e of document.querySelectorAll('#board, #board *')) {
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    if (r.left < -0.5 || r.right > W + 0.5 || (tv && (r.top < -0.5 || r.bottom > H + 0.5)))
      bad.push('outside ' + what(e) + ' ' + [r.left, r.top, r.right, r.bottom].map(Math.round));
  }
  for (const e of document.querySelectorAll('h1, #date, #clock, .big, #second, #totals *, #queue li *, footer'))
    if (e.scrollWidth > e.clientWidth + 1) bad.push('clipped ' + what(e) + ' ' + e.scrollWidth + '>' + e.clientWidth);
  const q = document.getElementById('queue').getBoundingClientRect();
  for (const e of document.querySelectorAll('#queue li'))
    if (e.getBoundingClientRect().bottom > q.bottom + 0.5) bad.push('cut off by the queue ' + what(e));
  if (document.documentElement.scrollWidth > W) bad.push('page wider than the screen');
  if (tv) {
    for (const e of document.querySelectorAll('#queue .name'))
      if (parseFloat(getComputedStyle(e).fontSize) < 0.045 * H - 0.5) bad.push('name < 4.5vh ' + what(e));
    for (const e of document.querySelectorAll('#queue .meta'))
      if (parseFloat(getComputedStyle(e).fontSize) < 0.03 * H - 0.5) bad.push('detail < 3vh ' + what(e));
  } else {
    const lefts = new Set([...document.querySelectorAll('#queue li')].map(e => Math.round(e.getBoundingClientRect().left)));
    if (lefts.size !== 1) bad.push('not one column: ' + [...lefts]);
  }
  return bad;
}"""


def team(n: int) -> list[str]:
    return (NAMES[:n - 1] + [LONG])


@pytest.fixture(params=[4, 12, 24], ids=lambda n: f"{n}members")
def busy_site(request, tmp_path, monkeypatch, wall):
    """A site whose day is under way: receptions, 外出, 暂离, a make-up, and the last member assigned."""
    monkeypatch.chdir(tmp_path)
    names = team(request.param)
    s = Site(tmp_path, names)
    s.say("张经理", "/开班 " + " ".join(names))
    s.say(names[0], "接待")                         # receiving; the long name is last in the queue
    s.say(names[1], "外出 送合同")
    s.say(names[2], "暂离")
    s.say("张经理", f"/补接 {LONG}")                  # a make-up: the long name moves up, numbered
    s.say("张经理", f"/补接 {names[0]}")              # a second one, while receiving: the longest details
    target = names[-2] if len(names) > 4 else LONG
    s.say("张经理", f"/指派 {target}")                # the next-up is far down the queue
    yield s, names, target
    s.stop()


@pytest.mark.parametrize("size", SIZES, ids=lambda wh: f"{wh[0]}x{wh[1]}")
def test_every_layout_shows_everyone_and_nothing_overflows(busy_site, browser, size):
    site, names, target = busy_site
    board, _ = site.links()
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(patience(5) * 1000)
    page.goto(board)
    page.wait_for_function("() => document.body.dataset.next !== undefined && document.querySelector('#queue li')")
    page.wait_for_function("() => document.getElementById('conn').textContent === '实时'")
    tv = size[0] > size[1]
    shown = page.locator("#queue .name").all_inner_texts()
    assert sorted(shown) == sorted(names) and page.locator("#more").is_hidden()     # nobody cut off
    assert page.locator("#next").inner_text() == target
    assert page.locator("#second").inner_text().startswith("第二位 ") or len(names) == 4   # (4: nobody else free)
    assert "补接1" in page.locator("#queue li", has_text=LONG).inner_text()
    assert "补接2" in page.locator("#queue li", has_text=names[0]).inner_text()
    assert "起" in page.locator("#queue li", has_text=names[1]).inner_text()       # away since when
    problems = page.evaluate(CHECK, [tv])
    assert problems == [], "\n".join(problems)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"board-{size[0]}x{size[1]}-{len(names)}.png"), full_page=not tv)
    ctx.close()


def _hour(delta: int) -> str:
    """WALL's hour moved by `delta` hours, as a shift time (the tests run at 03:00 and at 14:00)."""
    return f"{(WALL.now().astimezone(TZ).hour + delta) % 24:02d}:00"


def test_before_the_day_opens_the_board_shows_who_signed_in(tmp_path, monkeypatch, wall, page):
    monkeypatch.chdir(tmp_path)
    site = Site(tmp_path, shift=(_hour(1), "23:59"))          # the shift starts in an hour
    try:
        site.say("李四", "签到")
        site.say("王五", "签到")
        board, _ = site.links()
        page.goto(board)
        page.wait_for_function("() => document.body.dataset.phase === 'before'")
        assert page.locator("#next").inner_text() == "今天还没开班"
        assert page.locator("#queue-title").inner_text() == "开班前已签到（2）"
        assert sorted(page.locator("#queue .name").all_inner_texts()) == ["李四", "王五"]
    finally:
        site.stop()


def test_after_the_shift_the_board_says_closed_not_a_next_up(tmp_path, monkeypatch, wall, page):
    monkeypatch.chdir(tmp_path)
    site = Site(tmp_path, shift=("00:00", _hour(-1)))        # the shift ended an hour ago
    try:
        site.say("张经理", "/开班 李四 王五")
        board, _ = site.links()
        page.goto(board)
        page.wait_for_function("() => document.body.dataset.phase === 'after'")
        assert page.locator("#next").inner_text() == "已下班" and page.locator("#second").inner_text() == ""
        assert page.locator("#queue .name").all_inner_texts() == ["李四", "王五"]     # the day's counts stay
        assert page.locator("#queue li.next").count() == 0
    finally:
        site.stop()
