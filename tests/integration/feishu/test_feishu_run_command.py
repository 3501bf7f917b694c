"""`reception-bot run` with Feishu credentials in the environment connects by long connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from feishu_fake import APP_ID, APP_SECRET, message_event, wait_for

from tests.clock import wall_at
from tests.waits import patience

ROOT = Path(__file__).resolve().parents[3]
CONFIG = """\
database: sqlite:///{db}
projects:
  - name: 阳光花园
    managers: [{{name: 张经理, feishu: ou_manager}}]
    salespeople: [{{name: 李四, feishu: ou_lisi}}, {{name: 王五, feishu: ou_wangwu}}]
    chats: {{feishu: [oc_group]}}
ops: {{port: 0}}                  # health endpoints on any free port: tests run side by side
"""


def test_run_with_credentials_answers_in_the_group_through_the_long_connection(fake, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "r.db"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "WECHATY_"))}
    env.update(FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=APP_SECRET, FEISHU_DOMAIN=fake.url)
    cmd = [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg), "--at", wall_at()]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        fake.wait_connected(timeout=30)
        fake.push(message_event("/开班 李四 王五", sender="ou_manager"))
        wait_for(lambda: any("下一位:" in t for t in fake.texts_to("oc_group")), 20, "the /开班 reply")
        fake.push(message_event("到访 张三 13812345678", sender="ou_lisi"))
        reply = wait_for(lambda: [t for t in fake.texts_to("oc_group") if "张三" in t], 20, "the 到访 reply")
        assert "138****5678" in reply[0] and "13812345678" not in reply[0]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=patience(20))[0]
    assert proc.returncode == 0 and "Feishu adapter started" in out and "stopping" in out, out[-2000:]
