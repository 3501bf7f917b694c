"""Real-browser fixtures: Debian's Chromium driven by Playwright, and a bot with its web pages.

The browser tests skip with a clear message only where no Chromium (or Playwright) exists;
with CI set, that skip is a failure (as for PostgreSQL in tests/conftest.py).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bot.adapters.web import make_web, serve_in_thread
from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from storage.pgcluster import free_port
from tests.clock import WALL
from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CONFIG = """
timezone: Asia/Shanghai
policy: {preset: auto_dealer}
web: {host: 127.0.0.1, port: %(port)d, base_url: "http://127.0.0.1:%(port)d"}
projects:
  - name: 阳光花园
    shift: {start: "%(start)s", end: "%(end)s"}
    managers: [张经理]
    salespeople: [%(sales)s]
"""
SALES = ["李四", "王五", "赵六", "钱七"]


def _chromium() -> str | None:
    for cand in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and Path(cand).is_file():
            return cand
    return None


def _unavailable(msg: str):
    if os.environ.get("CI"):
        pytest.fail(msg + " — and CI is set, so this is a failure")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser():
    """Per module: Playwright's sync API keeps an event loop running in this thread until it stops,
    and later tests (the WeChat adapter's asyncio.run) need none."""
    path = _chromium()
    if path is None:
        _unavailable("Chromium not found (apt-get install chromium): browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright not installed (pip install playwright): browser tests skipped")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    p = ctx.new_page()
    p.set_default_timeout(5000)
    yield p
    ctx.close()


class Site:
    """A bot (App on a SQLite file) and its pages served on a free port, like `reception-bot run`."""

    def __init__(self, tmp_path: Path, sales: list[str] = SALES, shift: tuple[str, str] = ("00:00", "23:59")):
        self.port = free_port()
        cfg = tmp_path / "config.yaml"
        cfg.write_text(CONFIG % {"port": self.port, "sales": ", ".join(sales), "start": shift[0], "end": shift[1]},
                       encoding="utf-8")
        self.app = bootstrap(cfg, db_url=f"sqlite:///{tmp_path}/reception.db", clock=WALL)
        self.server = None
        self.app.run_due(WALL.now())     # like `run`'s first sweep: at 14:00 the day opens now, at 03:00 at 09:00
        self.start()

    def start(self):
        self.server = serve_in_thread(make_web(self.app.engine, self.app.projects, WALL.now), "127.0.0.1", self.port)

    def stop(self):
        self.server.stop()

    def say(self, who: str, text: str, private: bool = False) -> list:
        return self.app.handle(Incoming("console", who, text, WALL.now(), private=private, project="阳光花园"))

    def links(self, reset: bool = False) -> tuple[str, str]:
        """The board's link (/看板) and the report's (/报表); `reset`: both replaced."""
        suffix = " 重置" if reset else ""
        [board] = re.findall(r"http://\S+", self.say("张经理", "/看板" + suffix)[0].text)
        [report] = re.findall(r"http://\S+", self.say("张经理", "/报表" + suffix)[0].text)
        return board, report


@pytest.fixture
def site(tmp_path, monkeypatch, wall):
    monkeypatch.chdir(tmp_path)           # charts and workbooks land in tmp_path/exports
    s = Site(tmp_path)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
