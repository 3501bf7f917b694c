"""WeCom's settings: `run` with WECOM_BOT_ID/WECOM_BOT_SECRET (or config.yaml's `wecom:`) starts only the
WeCom adapter; a mistake in them is one line and exit 2 before the database is opened; 0010_wecom
goes up and down on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.cli import main
from tests.clock import wall_at
from tests.integration.wecom.conftest import GROUP, IDS
from tests.integration.wecom.wecom_fake import BOT_ID, SECRET, text_callback, wait_for
from tests.waits import patience

ROOT = Path(__file__).resolve().parents[3]
CONFIG = """\
database: sqlite:///{db}
projects:
  - name: 阳光花园
    managers: [{{name: 张经理, wecom: u_zhang}}]
    salespeople: [{{name: 李四, wecom: u_li}}, {{name: 王五, wecom: u_wang}}]
    chats: {{wecom: [{group}]}}
{wecom}"""
PLATFORM_ENV = ("FEISHU_", "WECHATY_", "WECOM_")


@pytest.fixture
def clean_env(monkeypatch):
    for k in [k for k in os.environ if k.startswith(PLATFORM_ENV)]:
        monkeypatch.delenv(k)


@pytest.mark.parametrize("block,words", [
    ("wecom: {bot_id: aib_x}", ["WECOM_BOT_SECRET"]),
    ("wecom: {secret: s}", ["WECOM_BOT_ID"]),
    ("wecom: {bot_id: aib_x, secret: s, url: 'http://x'}", ["wecom.url", "wss://"]),
    ("wecom: {bot_id: aib_x, secret: s, dead_after: 0}", ["wecom.dead_after", "0"]),
    ("wecom: {bot_id: aib_x, secret: s, per_chat_per_minute: lots}", ["wecom.per_chat_per_minute", "lots"]),
    ("wecom: {bot_id: aib_x, secret: s, mode: ws}", ["mode"]),
])
def test_a_wecom_mistake_is_one_line_and_exit_2_before_the_database(tmp_path, capsys, clean_env, block, words):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "r.db", group=GROUP, wecom=block), encoding="utf-8")
    rc = main(["run", "--config", str(cfg)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "Traceback" not in err[0], err
    assert all(w in err[0] for w in words), err
    assert not (tmp_path / "r.db").exists()


def test_one_wecom_userid_for_two_people_is_refused_at_load(tmp_path, capsys):
    cfg = tmp_path / "config.yaml"
    text = CONFIG.format(db=tmp_path / "r.db", group=GROUP, wecom="").replace("wecom: u_wang", "wecom: u_li")
    cfg.write_text(text, encoding="utf-8")
    assert main(["state", "--json", "--config", str(cfg), "--at", "2026-12-02 10:00"]) == 2
    assert "u_li" in capsys.readouterr().err


def test_run_with_wecom_credentials_alone_starts_only_wecom_and_answers_in_the_group(fake, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.format(db=tmp_path / "r.db", group=GROUP, wecom=""), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_ENV)}
    env.update(WECOM_BOT_ID=BOT_ID, WECOM_BOT_SECRET=SECRET, WECOM_WS_URL=fake.url)
    cmd = [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg), "--at", wall_at()]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        fake.wait_subscribed(timeout=30)
        fake.push(text_callback("@接待助手 /开班 李四 王五", IDS["张经理"], GROUP))
        wait_for(lambda: any("下一位" in t for t in fake.texts(GROUP)), 20, "the /开班 answer")
    finally:
        proc.terminate()
        out = proc.communicate(timeout=patience(20))[0]
    assert proc.returncode == 0 and "WeCom adapter started" in out and "stopping" in out, out[-2000:]
    assert "Feishu adapter started" not in out and "WeChat adapter started" not in out


def test_0010_wecom_goes_up_and_down(db_url):
    from alembic import command

    from storage.db import make_engine
    from tests.integration.test_migrations import _alembic
    engine = make_engine(db_url)
    _alembic(engine, "0010_wecom")
    assert "wecom_id" in {c["name"] for c in inspect(engine).get_columns("members")}
    _alembic(engine, "0009_link_guesses", command.downgrade)
    assert "wecom_id" not in {c["name"] for c in inspect(engine).get_columns("members")}
    _alembic(engine, "head")
    assert "wecom_id" in {c["name"] for c in inspect(engine).get_columns("members")}
    engine.dispose()


def test_the_wecom_dependency_is_installed_by_default_not_in_an_extra():
    """A missing WeCom dependency is a failure here (and under CI), never a skip."""
    import tomllib

    import websockets  # noqa: F401  (ImportError: the test fails)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(d.startswith("websockets") for d in deps)
