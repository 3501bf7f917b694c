"""Issue 22 item 3: a board whose event stream is refused (503: too many screens) polls /state instead,
stays current, retries the stream with a growing delay rather than hammering, and goes live again
once a slot is free. Real browser (headless Chromium) under the pages' CSP."""
from __future__ import annotations

import threading
import time

import httpx

from bot.adapters.web import make_web, serve_in_thread
from storage.pgcluster import free_port
from tests.clock import WALL
from tests.waits import patience


def wait_text(page, selector: str, text: str, timeout: float) -> float:
    t0 = time.monotonic()
    page.wait_for_function("([s, t]) => document.querySelector(s).textContent.trim() === t", arg=[selector, text],
                           timeout=patience(timeout) * 1000, polling=50)
    return time.monotonic() - t0


def test_a_refused_stream_falls_back_to_polling_and_retries_slowly(site, page):
    site.say("张经理", "/开班 李四 王五 赵六")
    port = free_port()       # the same bot's pages, one event stream per board at most
    capped = serve_in_thread(make_web(site.app.engine, site.app.projects, WALL.now, max_streams_per_board=1),
                             "127.0.0.1", port)
    board = site.links()[0].replace(f":{site.port}/", f":{port}/")
    attempts = []
    page.on("request", lambda r: attempts.append(time.monotonic()) if r.url.endswith("/events") else None)
    release = threading.Event()
    holder = threading.Thread(target=hold_stream, args=(board, release), daemon=True)
    try:
        holder.start()
        time.sleep(0.5)                                     # the one slot is taken
        started = time.monotonic()
        page.goto(board)
        wait_text(page, "#next", "李四", 5)                  # rendered from /state
        wait_text(page, "#conn", "定时刷新", 5)
        site.say("李四", "接待")
        print(f"\nrefused board: the change showed after {wait_text(page, '#next', '王五', 12):.1f} s of polling")
        window = time.monotonic() - started
        print(f"{len(attempts)} stream attempts in {window:.1f} s")
        assert 2 <= len(attempts) <= 4                     # 2 s, 4 s, 8 s apart (±25%): not every second
        release.set()
        wait_text(page, "#conn", "实时", 20)                # the next retry finds the free slot
    finally:
        release.set()
        capped.stop()


def hold_stream(board: str, release: threading.Event) -> None:
    with httpx.Client(timeout=patience(30)) as c, c.stream("GET", board + "/events") as r:
        assert r.status_code == 200
        release.wait(patience(60))
