"""Issue 17 item 16 on WeChat, real core behind the adapter: a walk-in taken in a private chat is
announced in the project's room (with the @mention of the next-up) and confirmed privately."""
from __future__ import annotations

from .conftest import LISI, ROOM, Harness, wait_until
from .test_wechat_core import WANGWU, app  # noqa: F401  (the fixture)


def test_a_private_walk_in_is_announced_in_the_room(run, app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    async def scenario(h: Harness) -> None:
        h.service.contacts.update({WANGWU: "王五"})
        h.service.rooms[ROOM].members.append(WANGWU)
        h.service.push_message("p-signin-1", LISI, "签到", room=ROOM)
        h.service.push_message("p-signin-2", WANGWU, "签到", room=ROOM)
        await wait_until(lambda: len(app.offers) == 2 and not h.adapter._inflight, what="the sign-ins")
        h.service.push_message("p-walk-in", LISI, "接待")                      # a private chat
        await wait_until(lambda: any(r.text.startswith("@王五") or "李四 接待新客户" in r.text
                                     for r in h.replies(ROOM)) and h.replies(LISI), what="announcement and line")
        [room] = [r for r in h.replies(ROOM) if "李四 接待新客户" in r.text]
        assert "下一位:王五" in room.text and WANGWU in room.mention_ids
        [mine] = h.replies(LISI)
        assert mine.text.startswith("已办理，并已在项目群里公布：")

    run(scenario, bot=app)
