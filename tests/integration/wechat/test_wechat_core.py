"""WeChat adapter + the real core (bot.bootstrap) against the fake puppet service."""
from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .conftest import LISI, ROOM, ZHANG, Harness, wait_until

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bot.bootstrap") is None,
    reason="bot/bootstrap.py (the real core: bootstrap(config, db_url, clock) -> App) does not exist yet")

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
        self.app, self.calls = app, []

    def handle(self, msg):  # type: ignore[no-untyped-def]
        self.calls.append(msg)
        return self.app.handle(msg)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.app, name)


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot.bootstrap import bootstrap

    from bot.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return Spy(bootstrap(load_config(path), db_url="sqlite://", clock=lambda: NOW))


def test_room_visit_from_the_next_up_end_to_end_handled_once(run, app) -> None:  # type: ignore[no-untyped-def]
    async def scenario(h: Harness) -> None:
        from wechaty.utils.async_helper import SingleIdContainer

        h.service.contacts.update({WANGWU: "王五", ZHANG: "张经理"})
        h.service.rooms[ROOM].members.append(WANGWU)
        ts = NOW.timestamp()
        h.service.push_message("core-visit-1", LISI, "到访 张三 13812345678", room=ROOM, timestamp=ts)
        await wait_until(lambda: h.replies(ROOM), what="the core's reply in the room")
        await wait_until(lambda: not h.adapter._inflight, what="the delivery to finish")
        replies = h.replies(ROOM)
        [incoming] = app.calls
        assert incoming.event_id == "wechat:core-visit-1" and incoming.sender_id == LISI
        assert all("出错" not in r.text for r in replies), [r.text for r in replies]
        known = {LISI, WANGWU, ZHANG}
        assert all(set(r.mention_ids) <= known for r in replies)
        texts = [r.text for r in replies]
        assert any("张三" in t or "138" in t for t in texts) or any(r.mention_ids for r in replies), texts

        # the same message id delivered again after the SDK forgot it (a process restart): handled once
        SingleIdContainer._instance = None
        h.service.push_message("core-visit-1", LISI, "到访 张三 13812345678", room=ROOM, timestamp=ts)
        await wait_until(lambda: len(app.calls) == 2, what="the redelivery reaching the core")
        await wait_until(lambda: not h.adapter._inflight, what="its handling to finish")
        assert h.replies(ROOM) == replies
        assert not [s for s in h.service.sent if s.conversation_id != ROOM]

    run(scenario, bot=app)
