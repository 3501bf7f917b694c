"""Issue 22 item 3: every answer of the web pages (pages, state, events, assets, 404s, a refused stream)
carries a CSP that allows only the site's own script and style, X-Frame-Options DENY, nosniff and
no-referrer; /state and /events are not cached. Open event streams are capped per board and in all:
over a cap, 503 with Retry-After, and a closed stream frees its slot. No browser: uvicorn and httpx."""
from __future__ import annotations

import re
import time
from contextlib import ExitStack

import httpx
import pytest

from bot.adapters.web import make_web, serve_in_thread
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.messages import Incoming
from storage.pgcluster import free_port
from tests.conftest import at
from tests.waits import patience

CONFIG = """
timezone: Asia/Shanghai
web: {host: 127.0.0.1, port: 8787, base_url: "http://127.0.0.1:8787"}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [张经理]
    salespeople: [李四, 王五]
  - name: 翠湖天地
    shift: {start: "09:00", end: "18:00"}
    managers: [刘经理]
    salespeople: [赵六]
"""
SECURITY = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


class Web:
    """The pages of a two-project bot on a free port, streams capped at 3 in all and 2 per board."""

    def __init__(self, tmp_path):
        cfg = tmp_path / "config.yaml"
        cfg.write_text(CONFIG, encoding="utf-8")
        clock = FakeClock(at("2026-12-02 10:00"))
        self.app = bootstrap(cfg, db_url=f"sqlite:///{tmp_path}/r.db", clock=clock)
        self.app.run_due(clock.now())
        self.port = free_port()
        self.server = serve_in_thread(make_web(self.app.engine, self.app.projects, clock.now, max_streams=3,
                                               max_streams_per_board=2), "127.0.0.1", self.port)
        self.base = f"http://127.0.0.1:{self.port}"
        self.boards = [self.links(manager, project)[0] for manager, project in
                       (("张经理", "阳光花园"), ("刘经理", "翠湖天地"))]
        self.report = self.links("张经理", "阳光花园")[1]

    def links(self, manager: str, project: str) -> tuple[str, str]:
        [board, report] = [re.findall(r"http://\S+", self.app.handle(Incoming(
            "console", manager, verb, self.app.clock.now(), project=project))[0].text)[0] for verb in ("/看板", "/报表")]
        return tuple(u.replace("http://127.0.0.1:8787", self.base) for u in (board, report))


@pytest.fixture
def web(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)               # the links' QR codes land in tmp_path/exports
    w = Web(tmp_path)
    yield w
    w.server.stop()


def assert_secured(r: httpx.Response) -> None:
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp, (r.url, csp)
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert {k: r.headers.get(k) for k in SECURITY} == SECURITY, r.url


def test_every_answer_carries_the_security_headers_and_state_is_not_cached(web):
    board = web.boards[0]
    with httpx.Client(timeout=patience(5)) as c:
        answers = {url: c.get(url) for url in (
            board, board + "/state", web.report, web.report + "?from=2026-12-01&to=2026-12-02",
            web.report + "?from=bad", web.base + "/assets/board.js", web.base + "/assets/board.css",
            web.base + "/assets/report.css", web.base + "/assets/nothing.js", web.base + "/board/wrongtoken",
            web.base + "/board/wrongtoken/state", web.base + "/", web.base + "/nothing")}
        answers["POST board"] = c.post(board)
        with c.stream("GET", board + "/events") as events:
            answers["events"] = events
    for r in answers.values():
        assert_secured(r)
    assert [answers[u].status_code for u in (board, board + "/state", web.report)] == [200, 200, 200]
    assert answers[board + "/state"].headers["cache-control"] == "no-store"
    assert answers["events"].status_code == 200 and answers["events"].headers["cache-control"] == "no-store"
    assert answers[web.base + "/board/wrongtoken"].status_code == answers["POST board"].status_code == 404


def test_the_pages_have_no_inline_script_or_style_for_the_csp_to_block(web):
    with httpx.Client(timeout=patience(5)) as c:
        pages = [c.get(u).text for u in (web.boards[0], web.report, web.report + "?from=bad")]
    for html in pages:
        assert re.findall(r"<script\b[^>]*>", html) in ([], ['<script src="../assets/board.js">'])
        assert "<style" not in html and not re.search(r"\s(style|on[a-z]+)=", html)


def open_stream(stack: ExitStack, c: httpx.Client, url: str) -> httpx.Response:
    return stack.enter_context(c.stream("GET", url + "/events"))


def test_event_streams_are_capped_per_board_and_in_all_and_a_closed_one_frees_its_slot(web):
    a, b = web.boards
    with httpx.Client(timeout=patience(5)) as c, ExitStack() as stack:
        first = [open_stream(stack, c, a) for _ in range(2)]
        assert [r.status_code for r in first] == [200, 200]
        over = c.get(a + "/events")                           # a third on board a: over its 2
        assert over.status_code == 503 and over.headers["retry-after"] == "30"
        assert over.headers["cache-control"] == "no-store"
        assert_secured(over)
        assert open_stream(stack, c, b).status_code == 200     # board b has room: 3 in all now
        assert c.get(b + "/events").status_code == 503           # b has 1 of 2, but 3 of 3 are open
        first[0].close()                                         # one stream ends: its slot comes back
        deadline = time.monotonic() + patience(3)
        while status_of_stream(c, b) == 503:
            assert time.monotonic() < deadline, "the closed stream's slot did not come back"
            time.sleep(0.05)


def status_of_stream(c: httpx.Client, board: str) -> int:
    with c.stream("GET", board + "/events") as r:       # closed at once: an open one would not end
        return r.status_code
