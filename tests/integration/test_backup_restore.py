"""Backup and restore (issue 21 item 6), on SQLite and PostgreSQL: a backup taken while commands run is a
consistent state, the restore into a fresh database has exactly that register and queue, and the command
line refuses what would lose data."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from bot.cli import main
from handlers.state_view import dump
from storage import pgcluster
from storage.backup import BackupProblem, backup, restore
from storage.db import make_engine
from tests.bus import P, opened, say
from tests.conftest import ROOT, at

WHEN = at("2026-11-27 12:00")       # every state dump is read at this instant
MEMBERS = ("李四", "王五", "赵六")
SURNAMES, GIVEN = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕", "建国明华志强文静秀英伟芳娜敏丽军杰涛超勇"


def fresh_url(db_url: str, request, tmp_path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/restored/reception.db"
    return pgcluster.create_database(request.getfixturevalue("pg_server"), "r_")


def busy(app, stop: threading.Event, states: list) -> None:
    """Walk-ins in turn until `stop`: 接待, 到访 with a new phone, 送客; the state after each command."""
    t = at("2026-11-27 09:30")
    for i in range(300):
        if stop.is_set():
            return
        who = MEMBERS[i % 3]
        for text in ("接待", f"到访 {SURNAMES[i % 20]}{GIVEN[i // 20 % 20]}明 1380000{i:04d}", "送客"):
            t += timedelta(seconds=10)
            say(app, who, text, f"{t:%H:%M:%S}"[:5], sent=True)
            states.append(dump(app.engine, app.projects[P], WHEN))


def test_a_backup_taken_while_commands_run_restores_into_a_fresh_database_with_the_same_register_and_queue(
        db_url, config_file, tmp_path, request):
    app = opened(db_url, config_file)
    states = [dump(app.engine, app.projects[P], WHEN)]
    stop = threading.Event()
    load = threading.Thread(target=busy, args=(app, stop, states))
    load.start()
    try:
        while len(states) < 15 and load.is_alive():
            threading.Event().wait(0.01)
        first = len(states)
        print(backup(db_url, tmp_path / "backup.bin"))
        last = len(states)
    finally:
        stop.set()
        load.join()
    assert first >= 15 and len(states) > last                   # commands ran before, during and after it

    target = fresh_url(db_url, request, tmp_path)
    print(restore(target, tmp_path / "backup.bin"))
    restored = dump(make_engine(target), app.projects[P], WHEN)
    matches = [i for i in range(first - 1, last + 1) if states[i] == restored]
    assert matches, "the restored state is none of the states the database went through during the backup"
    assert restored["customers"] and restored["queue"]


def test_restore_refuses_a_database_that_is_not_empty_and_backup_never_overwrites(db_url, config_file, tmp_path):
    app = opened(db_url, config_file)
    say(app, "李四", "接待", "09:30")
    path = tmp_path / "b.bin"
    backup(db_url, path)
    with pytest.raises(BackupProblem, match="不是空的"):
        restore(db_url, path)
    with pytest.raises(BackupProblem, match="已存在"):
        backup(db_url, path)
    assert dump(app.engine, app.projects[P], WHEN)["queue"]     # untouched


def test_the_command_line_backs_up_and_restores_and_refuses_in_one_line(config_file, tmp_path, capsys):
    src, dst = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    app = opened(src, config_file)
    cfg = str(config_file())
    assert main(["backup", "--config", cfg, "--db", src, str(tmp_path / "x.bak")]) == 0
    assert main(["restore", "--config", cfg, "--db", dst, str(tmp_path / "x.bak")]) == 0
    assert dump(make_engine(dst), app.projects[P], WHEN) == dump(app.engine, app.projects[P], WHEN)
    assert main(["restore", "--config", cfg, "--db", dst, str(tmp_path / "x.bak")]) == 2
    assert main(["restore", "--config", cfg, "--db", f"sqlite:///{tmp_path}/c.db", str(config_file())]) == 2
    assert main(["backup", "--config", cfg, "--db", "sqlite://", str(tmp_path / "y.bak")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "不是空的" in err[0] and "不是接待助手的 SQLite 备份" in err[1] and "内存数据库" in err[2]


def test_without_pg_dump_the_refusal_prints_the_exact_command(tmp_path):
    out = subprocess.run([sys.executable, "-c", (
        "import shutil, storage.backup as b; shutil.which = lambda t: None; b._in_pg_bindir = lambda t: None\n"
        "try: b.backup('postgresql://bot:secret@db:5432/reception', 'x.dump')\n"
        "except b.BackupProblem as e: print(e)")], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "pg_dump --format=custom --no-owner --file x.dump postgresql://bot@db:5432/reception" in out
    assert "secret" not in out
