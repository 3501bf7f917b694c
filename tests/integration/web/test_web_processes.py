"""`reception-bot run` serves the pages in-process when web: is set; `reception-bot web` serves them
alone; a command handled by another process shows on the board's event stream within 1 s."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from storage.pgcluster import free_port
from tests.clock import wall_at
from tests.waits import patience

CONFIG = """
timezone: Asia/Shanghai
database: sqlite:///%(dir)s/r.db
web: {host: 127.0.0.1, port: %(port)d, base_url: "http://127.0.0.1:%(port)d"}
projects:
  - name: 阳光花园
    shift: {start: "00:00", end: "23:59"}
    managers: [张经理]
    salespeople: [李四, 王五, 赵六]
"""


def cli(*args, cfg, stdin=None, wait=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "WECHATY_"))}
    cmd = [sys.executable, "-m", "bot.cli", *args, "--config", str(cfg), "--at", wall_at()]
    if wait:
        return subprocess.run(cmd, cwd=cfg.parent, env=env, capture_output=True, text=True, timeout=patience(60))
    return subprocess.Popen(cmd, cwd=cfg.parent, env=env, stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=patience(5)) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + patience(timeout)
    while get(url)[0] == 0:
        assert time.monotonic() < deadline, f"nothing serves {url}"
        time.sleep(0.1)


def board_link(cfg, verb: str = "/看板", path: str = "board") -> str:
    r = cli("say", "--private", "张经理", verb, cfg=cfg)
    assert r.returncode == 0, r.stderr
    return re.search(rf"http://\S+/{path}/\S+", r.stdout).group(0)


class Events:
    """Reads the board's SSE stream in a thread: (arrival time, state) per event."""

    def __init__(self, url: str):
        self.got: list[tuple[float, dict]] = []
        self.resp = urllib.request.urlopen(url + "/events", timeout=patience(10))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        kind = ""
        for raw in self.resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "state":       # (not the ticks)
                self.got.append((time.monotonic(), json.loads(line[6:])))

    def wait(self, pred, timeout: float) -> float:
        deadline = time.monotonic() + patience(timeout)
        while time.monotonic() < deadline:
            for t, state in self.got:
                if pred(state):
                    return t
            time.sleep(0.01)
        raise AssertionError(f"no matching event in {timeout} s: {[s.get('next') for _, s in self.got]}")


def test_run_serves_the_board_and_another_process_change_shows_within_1_second(tmp_path, wall):
    port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG % {"dir": tmp_path, "port": port}, encoding="utf-8")
    bot = cli("run", cfg=cfg, stdin=subprocess.PIPE, wait=False)
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        bot.stdin.write("张经理: /开班 李四 王五\n")
        bot.stdin.flush()
        board = board_link(cfg)
        events = Events(board)
        events.wait(lambda s: s["next"] == "李四", 5)
        r = cli("say", "李四", "接待", cfg=cfg)                 # a second bot process
        done = time.monotonic()
        assert "下一位:王五" in r.stdout, r.stdout + r.stderr
        assert events.wait(lambda s: s["next"] == "王五", 1.0) - done < patience(1.0)
        assert get(board.rsplit("/", 1)[0] + "/wrong")[0] == 404
    finally:
        _, err = bot.communicate("exit\n", timeout=patience(30))      # with the event stream still open
    assert bot.returncode == 0, err
    assert "Traceback" not in err and "ERROR" not in err, err


def test_web_alone_serves_the_pages_and_404s_the_rest(tmp_path, wall):
    port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG % {"dir": tmp_path, "port": port}, encoding="utf-8")
    assert cli("say", "张经理", "/开班 李四", cfg=cfg).returncode == 0
    web = cli("web", cfg=cfg, wait=False)
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        board = board_link(cfg)
        status, body = get(board + "/state")
        assert status == 200 and json.loads(body)["next"] == "李四"
        assert get(board.replace("/board/", "/report/"))[0] == 404           # the board's link shows no figures
        assert get(board_link(cfg, "/报表", "report"))[0] == 200
        assert get(board + "x")[0] == 404 and get(f"http://127.0.0.1:{port}/report/")[0] == 404
        assert get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")        # issue 21: health on the pages' port
        assert get(f"http://127.0.0.1:{port}/readyz") == (200, "ready\n")
        assert "reception_outbox_pending 0.0" in get(f"http://127.0.0.1:{port}/metrics")[1]
    finally:
        web.terminate()
        web.wait(patience(10))
