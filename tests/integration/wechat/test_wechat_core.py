"""WeChat adapter + the real core (bot.bootstrap) against the fake puppet service."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .conftest import LISI, ROOM, ZHANG, Harness, wait_until

WANGWU = "wxid_wangwu"
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday, inside the shift
CONFIG = f"""
timezone: Asia/Shanghai
projects:
  - name: 望京壹号
    shift: {{start: "09:00", end: "18:00"}}
    salespeople:
      - {{name: 李四, wechat: {LISI}}}
      - {{name: 王五, wechat: {WANGWU}}}
    managers:
      - {{name: 张经理, wechat: {ZHANG}}}
    chats: {{wechat: ["{ROOM}"]}}
"""


class Spy:
    """Delegates to the App and counts handle() calls (the core's dedupe must make the 2nd a no-op)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app, self.calls, self.offers = app, [], []

    def accept(self, msg):  # type: ignore[no-untyped-def]
        self.offers.append(msg)
        return self.app.accept(msg)

    def handle(self, msg):  # type: ignore[no-untyped-def]
        self.calls.append(msg)
        return self.app.handle(msg)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.app, name)


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    from bot.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return Spy(bootstrap(load_config(path), db_url="sqlite://", clock=FakeClock(NOW)))


def test_room_visit_from_the_next_up_end_to_end_handled_once(run, app) -> None:  # type: ignore[no-untyped-def]
    async def scenario(h: Harness) -> None:
        from wechaty.utils.async_helper import SingleIdContainer


        h.service.contacts.update({WANGWU: "王五", ZHANG: "张经理"})
        h.service.rooms[ROOM].members.append(WANGWU)
        ts = NOW.timestamp()

        async def say(message_id: str, talker: str, text: str) -> list:
            """One room message; returns the room replies it produced."""
            before, offers = len(h.replies(ROOM)), len(app.offers)
            h.service.push_message(message_id, talker, text, room=ROOM, timestamp=ts)
            await wait_until(lambda: len(app.offers) > offers and not h.adapter._inflight, what=repr(text))
            return h.replies(ROOM)[before:]

        assert await say("core-signin-1", LISI, "签到")
        assert await say("core-signin-2", WANGWU, "签到")
        replies = await say("core-visit-1", LISI, "到访 张三 13812345678")
        texts = [r.text for r in replies]
        assert app.calls[-1].event_id == "wechat:core-visit-1" and app.calls[-1].sender_id == LISI
        assert any("张三" in t for t in texts) and not any("出错" in t for t in texts), texts
        assert "13812345678" not in "".join(texts)  # the core masks phones in groups
        for r in replies:
            assert set(r.mention_ids) <= {LISI, WANGWU, ZHANG}
            if "下一位:王五" in r.text:
                assert WANGWU in r.mention_ids and r.text.startswith("@王五")

        # the same message id delivered again after the SDK forgot it (a process restart): handled once
        SingleIdContainer._instance = None
        assert await say("core-visit-1", LISI, "到访 张三 13812345678") == []
        assert [m.event_id for m in app.offers].count("wechat:core-visit-1") == 2     # stored once …
        assert [m.event_id for m in app.calls].count("wechat:core-visit-1") == 1      # … and handled once
        assert not [s for s in h.service.sent if s.conversation_id != ROOM]

    run(scenario, bot=app)
