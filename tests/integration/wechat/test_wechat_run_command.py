"""`reception-bot run` with a puppet-service endpoint in the environment answers in the WeChat room."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.clock import wall_at
from tests.waits import patience

from .conftest import LISI, ROOM, ZHANG
from .fake_puppet import FakePuppetService, Room

ROOT = Path(__file__).resolve().parents[3]
WANGWU = "wxid_wangwu"
CONFIG = f"""
database: sqlite:///{{db}}
projects:
  - name: 望京壹号
    managers: [{{{{name: 张经理, wechat: {ZHANG}}}}}]
    salespeople: [{{{{name: 李四, wechat: {LISI}}}}}, {{{{name: 王五, wechat: {WANGWU}}}}}]
    chats: {{{{wechat: ["{ROOM}"]}}}}
ops: {{{{port: 0}}}}              # health endpoints on any free port: tests run side by side
"""


def poll(pred, timeout, what):
    deadline = time.monotonic() + patience(timeout)
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_run_with_an_endpoint_answers_in_the_room_and_stops_on_sigterm(tmp_path, wall):
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    service = FakePuppetService(self_id="wxid_bot")
    service.contacts.update({ZHANG: "张经理", LISI: "李四", WANGWU: "王五"})
    service.rooms[ROOM] = Room(topic="接待群", members=["wxid_bot", ZHANG, LISI, WANGWU])
    asyncio.run_coroutine_threadsafe(service.start(), loop).result(10)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "r.db"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "WECHATY_"))}
    env.update(WECHATY_PUPPET_SERVICE_ENDPOINT=f"127.0.0.1:{service.port}",
               WECHATY_PUPPET_SERVICE_TOKEN="insecure_test-token")
    cmd = [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg), "--at", wall_at()]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        poll(lambda: service.streams > 0, 30, "the bot's event stream")
        probes = iter(range(1000))

        def answered() -> bool:          # the SDK logs in after the stream opens: ask 轮排 until it answers
            if any(s.conversation_id == ROOM for s in service.sent):
                return True
            loop.call_soon_threadsafe(service.push_message, f"probe{next(probes)}", ZHANG, "轮排", ROOM)
            time.sleep(0.2)
            return False

        poll(answered, 30, "the bot to answer in the room")
        loop.call_soon_threadsafe(service.push_message, "m1", ZHANG, "/开班 李四 王五", ROOM)
        poll(lambda: any("下一位" in s.text for s in service.sent if s.conversation_id == ROOM), 30, "the reply")
        loop.call_soon_threadsafe(service.push_message, "m2", LISI, "到访 张三 13812345678", ROOM)
        poll(lambda: any("张三" in s.text for s in service.sent), 30, "the 到访 reply")
        texts = [s.text for s in service.sent if s.conversation_id == ROOM]
        assert any("138****5678" in t for t in texts) and not any("13812345678" in t for t in texts)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=patience(30))[0]
        asyncio.run_coroutine_threadsafe(service.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
    assert proc.returncode == 0 and "WeChat adapter started" in out and "stopping" in out, out[-3000:]
