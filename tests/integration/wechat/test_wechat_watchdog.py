"""The watchdog on the WeChat adapter (issue 21 item 2): the puppet service's event stream stays open and
carries nothing (no message, no dong). The adapter is restarted in place, the held message arrives on
the new stream and is answered once."""
from __future__ import annotations

from bot.watchdog import Watchdog
from tests.waits import patience

from .conftest import ROOM, ZHANG, Harness, wait_until


def test_a_deaf_event_stream_is_restarted_in_place_and_the_held_message_is_answered_once(run) -> None:
    async def scenario(h: Harness) -> None:
        h.adapter.ding_every = 0.2                          # its dong is the heartbeat (production: 30 s)
        dog = Watchdog(window=patience(2.0))
        dog.watch(h.adapter)
        dog.start(every=0.3)
        try:
            await wait_until(lambda: dog.problems() == [], what="heard")
            h.service.deafen()
            h.service.push_message("m-deaf", ZHANG, "到访 张三 13812345678", room=ROOM)
            seen: list[str] = []
            await wait_until(lambda: seen.extend(dog.problems()) or seen, what="/readyz failing")
            assert seen[0].startswith("wechat: ")
            await wait_until(lambda: h.service.streams >= 2, what="a new event stream")
            await wait_until(lambda: h.replies(ROOM), what="the held message answered")
            await wait_until(lambda: dog.problems() == [], what="ready again")
            assert [m.event_id for m in h.bot.handled] == ["wechat:m-deaf"] and len(h.replies(ROOM)) == 1
        finally:
            dog.stop()

    run(scenario)
