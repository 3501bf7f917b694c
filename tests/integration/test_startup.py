"""Start-up (issue 23 item 5): `reception-bot say` imports neither openpyxl nor matplotlib nor, on a
database already at head, Alembic; /导出 and /周报 import them when they need them and still work.
(The time itself is measured by bench/startup.py; no timed assertion here.)"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("openpyxl", "matplotlib", "alembic")
_SAY = f"""
import sys
from bot.cli import main
rc = main(["say", "--config", sys.argv[1], "--db", sys.argv[2], "--at", "2026-12-02 10:00", sys.argv[3], sys.argv[4]])
print(repr((rc, sorted(m for m in {HEAVY!r} if m in sys.modules))))
"""


def _say(tmp_path: Path, cfg: Path, who: str, text: str) -> tuple[int, list[str], str]:
    r = subprocess.run([sys.executable, "-c", _SAY, str(cfg), f"sqlite:///{tmp_path}/r.db", who, text],
                       capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 0, r.stderr
    rc, imported = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    return rc, imported, r.stdout


def test_say_on_a_current_database_imports_no_workbook_chart_or_migration_library(tmp_path, config_file):
    cfg = config_file()
    assert _say(tmp_path, cfg, "张经理", "/开班 李四 王五")[:2] == (0, ["alembic"])   # a new file: migrated
    rc, imported, out = _say(tmp_path, cfg, "李四", "轮排")
    assert rc == 0 and imported == [] and "李四" in out


def test_the_export_and_the_chart_import_their_libraries_when_asked(tmp_path, config_file):
    cfg = config_file()
    _say(tmp_path, cfg, "张经理", "/开班 李四 王五")
    rc, imported, out = _say(tmp_path, cfg, "张经理", "/导出")
    assert rc == 0 and imported == ["openpyxl"]
    assert list((tmp_path / "exports").glob("*.xlsx")), out
    rc, imported, out = _say(tmp_path, cfg, "张经理", "/周报")
    assert rc == 0 and "matplotlib" in imported, out
