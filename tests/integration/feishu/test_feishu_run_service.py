"""`reception-bot run` as a service (issue 21 items 1 and 5): with Feishu credentials and no `web:`, it serves
/healthz, /readyz and /metrics on config.yaml's `ops:` port, and LOG_FORMAT=json writes one JSON object
per line with the message's fields and never a phone number."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
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
ops: {{port: {port}}}
"""
PHONE = re.compile(r"1[3-9]\d{9}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def test_run_serves_health_readiness_and_metrics_and_logs_json_without_phones(fake, tmp_path):
    port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "r.db", port=port), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "WECHATY_", "LOG_"))}
    env.update(FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=APP_SECRET, FEISHU_DOMAIN=fake.url, LOG_FORMAT="json",
               LOG_LEVEL="INFO")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", str(cfg), "--at", wall_at()],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        fake.wait_connected(timeout=30)
        assert wait_for(lambda: get(base + "/healthz")[0] == 200, 30, "/healthz")
        fake.push(message_event("/开班 李四 王五", sender="ou_manager"))
        fake.push(message_event("到访 张三 13812345678", sender="ou_lisi"))
        wait_for(lambda: [t for t in fake.texts_to("oc_group") if "张三" in t], 20, "the 到访 reply")
        assert wait_for(lambda: get(base + "/readyz") == (200, "ready\n"), 30, "/readyz ready")
        metrics = get(base + "/metrics")[1]
        assert re.search(r'reception_commands_total\{result="ok",verb="到访"\} 1\.0', metrics), metrics
        assert "reception_feishu_api_calls_total{month=" in metrics, metrics[-3000:]
        assert re.search(r"^reception_outbox_pending \d", metrics, re.M), metrics[-3000:]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=patience(20))[0]
    assert proc.returncode == 0, out[-2000:]
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    handled = [r for r in records if r["message"].startswith("handled")]
    assert {(r["platform"], r["verb"], r["project"]) for r in handled} == {("feishu", "开班", "阳光花园"),
                                                                         ("feishu", "到访", "阳光花园")}
    assert all(r["event_id"].startswith("feishu:") for r in handled)
    assert not PHONE.search(out), [line for line in out.splitlines() if PHONE.search(line)]
