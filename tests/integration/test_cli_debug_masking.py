"""Issue 22 item 8: `--debug` shows the traceback of a database fault, and that traceback goes through the
same phone masking as the logs: SQLAlchemy's `[parameters: …]` quote the customer's number."""
from __future__ import annotations

import sqlite3

from sqlalchemy import event

from bot.app import App
from bot.cli import main
from tests.conftest import BASIC_CONFIG

PHONE = "13812345678"


def test_debug_traceback_of_a_database_fault_shows_the_phone_masked(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(BASIC_CONFIG % {"preset": "real_estate"}, encoding="utf-8")
    original = App.handle

    def handle_on_a_failing_disk(self, msg):          # the statement that stores the phone meets a disk fault
        @event.listens_for(self.engine, "before_cursor_execute")
        def fail(conn, cursor, statement, parameters, context, executemany):
            if PHONE in repr(parameters):
                raise sqlite3.OperationalError("disk I/O error")
        return original(self, msg)

    monkeypatch.setattr(App, "handle", handle_on_a_failing_disk)
    rc = main(["say", "--debug", "--config", str(cfg), "--db", "sqlite://", "--at", "2026-11-27 09:30",
               "李四", f"到访 王建国 {PHONE}"])
    out, err = capsys.readouterr()
    assert rc == 2 and "Traceback" in err and "[parameters:" in err
    assert "138****5678" in err and PHONE not in err and PHONE not in out
    assert err.strip().splitlines()[-1].startswith("数据库错误")
