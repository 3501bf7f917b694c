"""Issue 22 item 7: the report page's ?from=&to= never answers 500. A date that is not one, outside
2000-01-01..2099-12-31, `from` after `to` or a range over 400 days is a 400 with one short Chinese line;
a good range is the report of those days."""
from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from bot.adapters.web import make_web
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.messages import Incoming
from tests.conftest import at

CONFIG = """
timezone: Asia/Shanghai
policy: {preset: real_estate}
web: {host: 127.0.0.1, port: 8787, base_url: "http://127.0.0.1:8787"}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [张经理]
    salespeople: [李四, 王五]
"""


class Client:
    """GET on the ASGI app in-process (httpx's ASGI transport: no server, no lifespan needed)."""

    def __init__(self, app):
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://bot") as c:
                return await c.get(path)
        return asyncio.run(go())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(client, the report's path) for a bot whose clock stands at 2026-12-02 10:00."""
    cfg = tmp_path_factory.mktemp("report") / "config.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    clock = FakeClock(at("2026-12-02 10:00"))
    app = bootstrap(cfg, db_url="sqlite://", clock=clock)
    app.run_due(clock.now())                     # the day opens first; then /报表 answers alone
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cfg.parent)                     # its QR code lands there, not in the working tree
        [out] = app.handle(Incoming("console", "张经理", "/报表", clock.now(), project="阳光花园"))
    [link] = [u for u in re.findall(r"http://\S+", out.text) if "/report/" in u]
    return Client(make_web(app.engine, app.projects, clock.now)), link.removeprefix("http://127.0.0.1:8787")


BAD = [   # (query, words of the one line)
    ("?from=9999-12-01", ["2000-01-01", "2099-12-31"]),
    ("?from=9999-12-01&to=9999-12-31", ["2000-01-01", "2099-12-31"]),
    ("?from=0001-01-01&to=0001-01-02", ["2000-01-01", "2099-12-31"]),
    ("?to=9999-12-31", ["2099-12-31"]),
    ("?from=1999-12-31&to=2000-01-05", ["2000-01-01"]),
    ("?from=2026-12-05&to=2026-12-01", ["晚于", "2026-12-05", "2026-12-01"]),
    ("?from=2026-12-05", ["晚于", "2026-12-02"]),              # `to` is today
    ("?from=2025-01-01&to=2026-11-30", ["最多 400 天"]),
    ("?from=abc", ["YYYY-MM-DD"]),
    ("?from=2026-02-30&to=2026-03-01", ["YYYY-MM-DD"]),
    ("?to=2026-13-01", ["YYYY-MM-DD"]),
    ("?from=12/01/2026", ["YYYY-MM-DD"]),
]


@pytest.mark.parametrize("query,words", BAD, ids=[q for q, _ in BAD])
def test_a_bad_range_is_400_with_one_short_line(report, query, words):
    client, path = report
    r = client.get(path + query)
    assert r.status_code == 400 and "Traceback" not in r.text
    [line] = re.findall(r'<p class="note">([^<]*)</p>', r.text)
    assert len(line) < 60 and re.search(r"[\u4e00-\u9fff]", line), line
    for w in words:
        assert w in line, (w, line)
    assert 'href="?"' in r.text and r.headers["cache-control"] == "no-store"       # back to this month


GOOD = [   # (query, the days shown)
    ("", "2026-12-01 至 2026-12-02"),
    ("?from=&to=", "2026-12-01 至 2026-12-02"),
    ("?from=2026-11-01&to=2026-11-30", "2026-11-01 至 2026-11-30"),
    ("?to=2026-11-15", "2026-11-01 至 2026-11-15"),                # from the first of its month
    ("?from=2026-11-20", "2026-11-20 至 2026-12-02"),               # to today
    ("?from=2099-12-01&to=2099-12-31", "2099-12-01 至 2099-12-31"),
    ("?from=2000-01-01&to=2000-12-31", "2000-01-01 至 2000-12-31"),
]


@pytest.mark.parametrize("query,shown", GOOD, ids=[q or "none" for q, _ in GOOD])
def test_a_good_range_is_the_report_of_those_days(report, query, shown):
    client, path = report
    r = client.get(path + query)
    assert r.status_code == 200 and f"<small>{shown}</small>" in r.text
