"""The per-process APScheduler sweep and the console chat of `reception-bot run`."""
from __future__ import annotations

import subprocess
import sys
import threading

from bot.sweep import start_scheduler
from tests.clock import wall_at
from tests.conftest import ROOT, fixed
from tests.waits import patience


class RecordingApp:
    def __init__(self):
        self.sent, self.marked, self.calls = [], [], threading.Event()
        self.clock = fixed()

    def reclaim_unsent(self, now):
        return []

    def run_due(self, now):
        from handlers.messages import Outgoing
        self.calls.set()
        return [Outgoing("提醒", to="李四", key="cust:1:20261127:1")]

    def mark_sent(self, keys, now):
        self.marked += keys

    def send_failed(self, keys, now):
        self.failed = keys


def test_the_sweep_job_is_coalesced_single_and_never_drops_late_runs():
    app = RecordingApp()
    delivered = []
    sched = start_scheduler(app, delivered.extend)
    try:
        assert app.calls.wait(patience(10))
        job = sched.get_job("sweep")
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time is None
        for _ in range(100):
            if app.marked:
                break
            threading.Event().wait(0.05)
        assert [o.key for o in delivered] == ["cust:1:20261127:1"] and app.marked == ["cust:1:20261127:1"]
    finally:
        sched.shutdown(wait=False)


def test_a_failed_delivery_is_not_marked_sent():
    app = RecordingApp()

    def broken(msgs):
        raise ConnectionError("platform down")

    sched = start_scheduler(app, broken)
    try:
        assert app.calls.wait(patience(10))
        threading.Event().wait(0.3)
        assert app.marked == []
    finally:
        sched.shutdown(wait=False)


def test_run_without_credentials_opens_the_console_chat(tmp_path, wall):
    cfg = tmp_path / "config.yaml"
    cfg.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "sqlite:///data/reception.db", f"sqlite:///{tmp_path}/r.db"), encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items()
           if not k.startswith(("FEISHU_", "WECHATY_"))}
    cmd = [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg), "--at", wall_at()]
    r = subprocess.run(cmd, cwd=tmp_path, env=env,
                       input="张经理: /开班 李四 王五\n李四: 到访 张三 13812345678\nexit\n",
                       capture_output=True, text=True, timeout=patience(60))
    assert r.returncode == 0, r.stderr
    assert "本地控制台" in r.stdout and "下一位:李四" in r.stdout and "下一位:王五" in r.stdout
    assert "张三（138****5678）" in r.stdout
