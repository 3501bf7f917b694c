"""Issue 17 item 16 on Feishu, real core behind the adapter: a queue command sent in a private chat
is announced in the project's group (with the @mention of the next-up), and confirmed privately."""

from __future__ import annotations

from feishu_fake import CountingPort, message_event, wait_for
from test_feishu_real_core import CONFIG, NOW


def test_a_private_walk_in_is_announced_in_the_group_and_confirmed_privately(fake, start_adapter, tmp_path):
    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    from bot.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    port = CountingPort(bootstrap(load_config(path), db_url=f"sqlite:///{tmp_path}/r.db", clock=FakeClock(NOW)))
    start_adapter(port)
    fake.wait_connected()
    ms = int(NOW.timestamp() * 1000)
    fake.push(message_event("/开班 李四 王五 赵六", sender="ou_manager", message_id="om_open", create_ms=ms))
    wait_for(lambda: fake.sent_to("oc_group"), what="the opening")
    fake.push(message_event("接待", sender="ou_lisi", chat_id="oc_p2p_lisi", chat_type="p2p",
                            message_id="om_private", create_ms=ms + 60_000))
    wait_for(lambda: any(t.startswith("李四 接待") for t in fake.texts_to("oc_group")) and fake.sent_to("ou_lisi"),
             what="the announcement and the private line")
    [group] = [t for t in fake.texts_to("oc_group") if t.startswith("李四 接待新客户")]
    assert '下一位:<at user_id="ou_wangwu"></at>' in group
    [mine] = fake.texts_to("ou_lisi")
    assert mine.startswith("已办理，并已在项目群里公布：") and "\n" not in mine
