"""The installed program (`bot.entry`, issue 23 item 5): the garbage collector is off only while the
modules load, and a one-shot command ends with `os._exit` once its output is flushed and its database
closed — nothing it printed or committed is lost, and its exit code is kept.
"""
from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from bot import cli, entry
from tests.conftest import ROOT
from tests.waits import patience

ENTRY = [sys.executable, "-c", "import sys; from bot.entry import main; sys.exit(main())"]


def run(cfg, db, *args: str) -> subprocess.CompletedProcess:
    """The program in a process of its own, its output a pipe (block-buffered: no PYTHONUNBUFFERED)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(ENTRY + [args[0], "--config", str(cfg), "--db", db, *args[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=patience(120))


def test_say_through_the_program_prints_everything_and_commits(config_file, tmp_path):
    cfg, path = config_file(), tmp_path / "r.db"
    db = f"sqlite:///{path}"
    first = run(cfg, db, "say", "--at", "2026-12-02 09:05", "李四", "签到")
    assert first.returncode == 0, first.stderr
    assert "李四 签到成功" in first.stdout and first.stdout.endswith("下一位:李四\n"), first.stdout
    second = run(cfg, db, "say", "--at", "2026-12-02 09:06", "王五", "轮排")     # a new process sees the first's work
    assert second.returncode == 0, second.stderr
    assert "1. 李四 在岗" in second.stdout, second.stdout
    with sqlite3.connect(path) as con:                      # the replies were marked sent before the exit
        unsent = con.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
    assert unsent == 0


def test_a_long_output_is_whole(config_file, tmp_path):
    r = run(config_file(), f"sqlite:///{tmp_path}/r.db", "state", "--json", "--at", "2026-12-02 09:05")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["date"] == "2026-12-02"     # the whole dump, parsed: nothing left in a buffer


def test_a_refusal_keeps_its_exit_code_and_message(config_file, tmp_path):
    r = run(config_file(), f"sqlite:///{tmp_path}/r.db", "say", "--at", "tomorrow", "李四", "签到")
    assert r.returncode == 2 and r.stdout == ""
    assert "tomorrow" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def exits(monkeypatch):
    """os._exit recorded instead of ending the test process."""
    codes: list[int] = []

    def fake_exit(rc: int):
        codes.append(rc)
        raise SystemExit(rc)
    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli, "_OPENED", [])
    return codes


def test_a_one_shot_command_exits_at_once_with_its_database_closed(config_file, tmp_path, exits, capsys):
    args = ["say", "--config", str(config_file()), "--db", f"sqlite:///{tmp_path}/r.db", "--at", "2026-12-02 09:05",
            "李四", "签到"]
    with pytest.raises(SystemExit):
        cli.main(args, fast_exit=True)
    assert exits == [0]
    assert capsys.readouterr().out                              # printed before the exit
    (app,) = cli._OPENED
    assert app.engine.pool.checkedin() == 0                     # disposed: no connection left open


def test_without_fast_exit_main_returns(config_file, tmp_path, exits, capsys):
    args = ["say", "--config", str(config_file()), "--db", f"sqlite:///{tmp_path}/r.db", "--at", "2026-12-02 09:05",
            "李四", "签到"]
    assert cli.main(args) == 0
    assert exits == []


def test_run_and_web_never_exit_early():
    assert {"run", "web"}.isdisjoint(cli.ONE_SHOT)
    assert cli.ONE_SHOT <= set(cli.COMMANDS)


def test_the_collector_is_back_on_when_the_command_runs(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "main", lambda fast_exit: seen.append((gc.isenabled(), fast_exit)) or 7)
    assert entry.main() == 7
    assert seen == [(True, True)]
    gc.unfreeze()


def test_the_installed_program_is_the_entry():
    import tomllib
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["reception-bot"] == "bot.entry:main"
