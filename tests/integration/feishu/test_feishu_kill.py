"""Nothing Feishu was told arrived is lost: `run` killed (SIGKILL) right after a burst is acknowledged.

Each round starts `reception-bot run` against the fake Feishu server, pushes a burst of events over the
long connection, waits until the SDK has acknowledged every one, and kills the process at once
(within 0.2 s of the last acknowledgement). The next process handles what the dead one stored but never
handled. At the end every acknowledged event was handled, and none twice: each has its delivery marked
handled and exactly one answer in the outbox (a second handling would add a numbered "#2" answer).

RECEPTION_KILL_ROUNDS sets the rounds (CI: 3 per database; the issue's figures: 50).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from feishu_fake import APP_ID, APP_SECRET, message_event, wait_for
from sqlalchemy import create_engine, text

from tests.clock import wall_at
from tests.waits import patience

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = int(os.environ.get("RECEPTION_KILL_ROUNDS", "3"))
BURST = 12
CONFIG = """\
database: {db}
projects:
  - name: 阳光花园
    managers: [{{name: 张经理, feishu: ou_manager}}]
    salespeople: [{{name: 李四, feishu: ou_lisi}}, {{name: 王五, feishu: ou_wangwu}}]
    chats: {{feishu: [oc_group]}}
ops: {{port: 0}}                  # health endpoints on any free port: tests run side by side
"""


def start(cfg: Path, fake) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "WECHATY_"))}
    env.update(FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=APP_SECRET, FEISHU_DOMAIN=fake.url, LOG_LEVEL="WARNING")
    cmd = [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg), "--at", wall_at()]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def burst(fake, n: int, first: int) -> list[str]:
    """Push `n` events; wait until every one is acknowledged; return their message ids."""
    ids, frames = [], []
    for i in range(first, first + n):
        ids.append(f"om_kill_{i:04d}")
        frames.append(fake.push(message_event("轮排", sender="ou_lisi" if i % 2 else "ou_wangwu",
                                              message_id=ids[-1])))
    wait_for(lambda: all(f in fake.acks for f in frames), what=f"{n} acknowledgements")
    assert all(fake.acks[f]["code"] == 200 for f in frames)
    return ids


def handled(url: str, ids: list[str]) -> tuple[dict[str, bool], dict[str, int]]:
    """Per event: marked handled; and how many answers it has in the outbox."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            done = dict(c.execute(text("SELECT event_id, handled FROM processed_events")).all())
            keys = c.execute(text("SELECT key FROM outbox")).scalars().all()
    finally:
        engine.dispose()
    answers = {i: sum(1 for k in keys if k.startswith(f"feishu:{i}:")) for i in ids}
    return {i: bool(done.get(f"feishu:{i}")) for i in ids}, answers


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_every_acknowledged_event_survives_a_kill_and_is_handled_once(db, fake, tmp_path, request):
    url = f"sqlite:///{tmp_path}/r.db" if db == "sqlite" else request.getfixturevalue("pg_url")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=url), encoding="utf-8")
    sent: list[str] = []
    for r in range(ROUNDS):
        proc = start(cfg, fake)
        try:
            fake.wait_connected(count=r + 1)
            sent += burst(fake, BURST, len(sent))
            killed = time.monotonic()
            proc.send_signal(signal.SIGKILL)
            assert time.monotonic() - killed < 0.2
        finally:
            proc.kill()
            proc.communicate(timeout=patience(30))
    last = start(cfg, fake)            # handles what the dead processes stored and never handled
    try:
        fake.wait_connected(count=ROUNDS + 1)       # started (and its SIGTERM handler installed)
        wait_for(lambda: all(handled(url, sent)[0].values()), timeout=60, what="every stored event handled")
    finally:
        last.terminate()
        out = last.communicate(timeout=patience(30))[0]
    done, answers = handled(url, sent)
    assert [i for i, ok in done.items() if not ok] == [], "acknowledged but never handled"
    assert {i: n for i, n in answers.items() if n != 1} == {}, "handled twice, or answered never"
    assert last.returncode == 0 and "Traceback" not in out, out[-3000:]
