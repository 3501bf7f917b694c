"""Issue 22 item 7: every input that used to end in a traceback is one line on stderr and exit code 2.

Times the command line takes (`--at`, `--until`, transcript lines) that are not a real
'YYYY-MM-DD HH:MM', before 2000, or more than a day past the real clock; a database other than
SQLite or PostgreSQL. The "real" clock is `bot.transcript.REAL`, a FakeClock here: nothing below
depends on the machine's date.
"""
from __future__ import annotations

import pytest

from bot import transcript
from bot.cli import main
from bot.clock import FakeClock
from tests.conftest import BASIC_CONFIG, at

REAL = FakeClock(at("2026-12-02 10:00"))
BAD_TIMES = ["2026-13-01 09:00", "2026-12-01", "09:00", "2026-12-01T09:00", "2026/12/01 09:00",
             "2026-12-01 25:00", "tomorrow", "2026-02-30 09:00"]
AT_COMMANDS = [["say", "张经理", "轮排"], ["state", "--json"], ["run"], ["web"], ["link", "张经理"]]
UNRECOGNISED = ["无法识别", "YYYY-MM-DD HH:MM"]
AHEAD = ["晚一天以上", "将来", "2026-12-02 10:00"]


@pytest.fixture(autouse=True)
def real_clock(monkeypatch):
    monkeypatch.setattr(transcript, "REAL", REAL)
    for var in ("FEISHU_APP_ID", "WECHATY_PUPPET_SERVICE_ENDPOINT"):     # `run`: never a platform
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def cli(config_file, tmp_path, capsys):
    """Run `reception-bot CMD --config … --db sqlite:///…/r.db ARGS` in-process: (exit code, stdout, stderr)."""
    cfg = config_file()

    def run(cmd: str, *args: str, db: str | None = None) -> tuple[int, str, str]:
        rc = main([cmd, "--config", str(cfg), "--db", db or f"sqlite:///{tmp_path}/r.db", *args])
        out, err = capsys.readouterr()
        return rc, out, err
    return run


def one_line(result: tuple[int, str, str], *words: str) -> str:
    rc, out, err = result
    lines = err.strip().splitlines()
    assert rc == 2 and out == "" and len(lines) == 1 and "Traceback" not in err, (rc, out, err)
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# ---- times -----------------------------------------------------------------------------------
TIME_CASES = [(c, t) for c in AT_COMMANDS for t in BAD_TIMES]


@pytest.mark.parametrize("command,value", TIME_CASES, ids=[f"{c[0]}-{t}" for c, t in TIME_CASES])
def test_a_bad_at_is_one_line_on_every_command(cli, command, value):
    one_line(cli(command[0], "--at", value, *command[1:]), *UNRECOGNISED, f"「{value}」")


@pytest.mark.parametrize("value", BAD_TIMES, ids=BAD_TIMES)
def test_a_bad_until_is_one_line_before_the_transcript_runs(cli, tmp_path, value):
    script = tmp_path / "t.txt"
    script.write_text("[2026-12-01 09:00] 张经理: /开班 李四 王五\n", encoding="utf-8")
    one_line(cli("replay", str(script), "--until", value), *UNRECOGNISED)


LINE_CASES = [   # (a transcript line that matches the line pattern, words of the one line)
    ("[2026-02-30 09:00] 李四: 签到", [":2:", "「2026-02-30 09:00」", *UNRECOGNISED]),
    ("[2026-12-01 24:00] 李四: 签到", [":2:", "「2026-12-01 24:00」", *UNRECOGNISED]),
    ("[2026-00-10 09:00] 李四: 签到", [":2:", *UNRECOGNISED]),
    ("[2026-12-01 09:61] 李四: 签到", [":2:", *UNRECOGNISED]),
    ("[1999-12-31 09:00] 李四: 签到", [":2:", "太早", "2000-01-01"]),
]


@pytest.mark.parametrize("line,words", LINE_CASES, ids=[c[0][1:17] for c in LINE_CASES])
def test_a_transcript_line_with_an_impossible_time_names_the_file_and_line(cli, tmp_path, line, words):
    script = tmp_path / "t.txt"
    script.write_text(f"# a comment\n{line}\n", encoding="utf-8")
    assert f"{script}:2:" in one_line(cli("replay", str(script)), *words)


@pytest.mark.parametrize("value", ["0001-01-01 00:00", "1999-12-31 23:59"])
def test_a_time_before_2000_is_refused(cli, value):
    one_line(cli("say", "--at", value, "张经理", "轮排"), "太早", "2000-01-01")


# ---- the future: a --catch-up more than a day past the real clock ------------------------------------
AHEAD_CASES = [   # (command and arguments; "{script}" is a transcript of one line at 2026-12-01 09:00)
    ["say", "--at", "2099-01-01 09:00", "--catch-up", "张经理", "/开班 李四 王五"],
    ["say", "--at", "9999-12-31 23:59", "--catch-up", "张经理", "轮排"],
    ["say", "--at", "2026-12-03 10:01", "--catch-up", "张经理", "轮排"],   # a day and a minute
    ["replay", "{script}", "--until", "2099-01-01 09:00", "--catch-up"],
    ["run", "--at", "2099-01-01 09:00", "--catch-up"],
]


@pytest.mark.parametrize("argv", AHEAD_CASES, ids=[" ".join(a[:3]) for a in AHEAD_CASES])
def test_a_time_more_than_a_day_ahead_of_the_real_clock_is_refused_and_nothing_is_stored(cli, tmp_path, argv):
    script = tmp_path / "t.txt"
    script.write_text("[2026-12-01 09:00] 张经理: /开班 李四 王五\n", encoding="utf-8")
    argv = [a.format(script=script) for a in argv]
    one_line(cli(*argv), *AHEAD)
    assert not (tmp_path / "r.db").exists()             # refused before the database is opened
    rc, out, err = cli("say", "--at", "2026-12-02 10:05", "张经理", "/开班 李四 王五")    # today still works
    assert rc == 0 and "开班" in out and err == "", err


def test_up_to_a_day_ahead_is_allowed(cli):
    rc, out, err = cli("say", "--at", "2026-12-03 09:59", "张经理", "/开班 李四 王五")
    assert rc == 0 and "开班" in out and err == ""


# ---- databases other than SQLite and PostgreSQL ---------------------------------------------------
@pytest.mark.parametrize("url", ["mysql://u:s3cret@h/db", "mysql+pymysql://u:s3cret@h/db",
                                 "mssql+pyodbc://u:s3cret@h/db", "oracle://u:s3cret@h/db"])
def test_another_database_is_one_line_without_the_password(cli, url):
    line = one_line(cli("say", "--at", "2026-12-02 09:00", "张经理", "轮排", db=url),
                    "数据库错误", "只支持 SQLite 和 PostgreSQL", url.replace("s3cret", "***"))
    assert "s3cret" not in line


def test_another_database_in_config_yaml_is_one_line(config_file, capsys):
    cfg = config_file(text='database: "mysql://u:s3cret@h/db"\n' + BASIC_CONFIG % {"preset": "real_estate"})
    one_line((main(["say", "--config", str(cfg), "--at", "2026-12-02 09:00", "张经理", "轮排"]), *capsys.readouterr()),
             "只支持 SQLite 和 PostgreSQL", "mysql://u:***@h/db")


@pytest.mark.parametrize("url", ["postgresql+asyncpg://u:s3cret@h/db", "sqlite+pysqlcipher://:s3cret@/x.db"])
def test_a_driver_that_is_not_installed_is_one_line(cli, url):
    line = one_line(cli("say", "--at", "2026-12-02 09:00", "张经理", "轮排", db=url), "没有安装")
    assert "s3cret" not in line


def test_without_catch_up_a_time_ahead_is_bounded_by_the_31_day_rule_not_by_the_real_clock(cli, tmp_path):
    """A transcript written for next week replays (a fresh database); a say far ahead needs --catch-up."""
    script = tmp_path / "t.txt"
    script.write_text("[2026-12-09 09:00] 张经理: /开班 李四 王五\n", encoding="utf-8")
    rc, out, err = cli("replay", str(script), db="sqlite://")
    assert rc == 0 and "开班" in out, err
    assert cli("say", "--at", "2026-12-05 09:00", "张经理", "/开班 李四 王五")[0] == 0
    one_line(cli("say", "--at", "2099-01-01 09:00", "张经理", "轮排"), "--catch-up")     # 31 days behind
