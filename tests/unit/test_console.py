"""The console chat: `姓名：命令` lines, a nameless line is the last speaker's, exit ends it (no database)."""
from __future__ import annotations

import io
from datetime import datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from bot.adapters.console import ConsoleAdapter
from bot.clock import FakeClock
from handlers.messages import Outgoing
from rules import texts as T


class FakeApp:
    def __init__(self):
        ps = SimpleNamespace(tz=ZoneInfo("Asia/Shanghai"), salespeople=["李四", "王五"], managers=["张经理"],
                             shift_start=time(0, 0), shift_end=time(23, 59, 59, 999999))
        self.projects = {"阳光花园": ps}
        self.engine = SimpleNamespace(url=SimpleNamespace(render_as_string=lambda: "sqlite://"))
        self.handled, self.marked, self.failed = [], [], []
        self.clock = FakeClock(datetime(2026, 12, 2, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai")))

    def handle(self, msg):
        self.handled.append((msg.sender_id, msg.private, msg.text))
        return [Outgoing(f"收到:{msg.text}", key=f"k{len(self.handled)}")]

    def mark_sent(self, keys, now):
        self.marked += keys

    def send_failed(self, keys, now):
        self.failed += keys


def chat(lines: str) -> tuple[FakeApp, str]:
    app, out = FakeApp(), io.StringIO()
    console = ConsoleAdapter(app, "阳光花园", io.StringIO(lines), out)
    console.start()
    assert console.run() == 0
    return app, out.getvalue()


def test_a_nameless_line_is_said_by_the_last_speaker_and_private_is_marked():
    app, out = chat("李四：签到\n到访 张三 13812345678\n王五(私聊): 我的客户\n")
    assert app.handled == [("李四", False, "签到"), ("李四", False, "到访 张三 13812345678"), ("王五", True, "我的客户")]
    assert "→ 群: 收到:签到" in out and app.marked == ["k1", "k2", "k3"] and app.failed == []


def test_a_first_line_without_a_name_is_refused_with_the_format_and_nothing_is_handled():
    app, out = chat("签到\n")
    assert app.handled == [] and T.CONSOLE_FORMAT in out


def test_exit_ends_the_chat_and_later_lines_are_not_handled():
    app, out = chat("李四: 签到\n\n退出\n王五: 签到\n")
    assert app.handled == [("李四", False, "签到")]


def test_the_greeting_names_the_project_database_and_roster():
    _, out = chat("")
    assert out.splitlines()[:3] == [T.CONSOLE_HEAD.format(project="阳光花园", db="sqlite://"), T.CONSOLE_HOW,
                                    T.CONSOLE_WHO.format(names="李四、王五", managers="张经理")]
