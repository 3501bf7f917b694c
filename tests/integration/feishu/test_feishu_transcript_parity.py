"""Issue #5 "done when": the same transcript sent through Feishu and through `replay` ends in the same state.

One scenario (RULES §3 worked example, absent members and business trips) is run twice on fresh
SQLite databases: once with `reception-bot replay --state` in-process, once as Feishu
im.message.receive_v1 events pushed over the fake long connection to the real core behind
FeishuAdapter. The final state (queue, next, customers, deals) and the messages sent must match.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from feishu_fake import APP_ID, APP_SECRET, BOT_NAME, CountingPort, FakeFeishu, message_event, wait_for

# Copied verbatim from shared/scenarios/03_absent_and_business_trip.txt (tests read no file outside the repo).
TRANSCRIPT = """\
# RULES §3 worked example: absent members lose their turn, business trips keep it.
[2026-11-27 08:50] 张经理: /开班
[2026-11-27 08:51] 李四: 签到
[2026-11-27 08:52] 赵六: 签到
[2026-11-27 08:53] 钱七: 签到
[2026-11-27 09:05] 李四: 到访 陈一 13800000001
[2026-11-27 09:10] 李四: 送客
[2026-11-27 09:15] 赵六: 到访 陈二 13800000002
[2026-11-27 09:20] 赵六: 送客
[2026-11-27 09:21] 王五: 签到
[2026-11-27 09:22] 钱七: 外出 银行办按揭
[2026-11-27 09:25] 李四: 到访 陈三 13800000003
[2026-11-27 09:40] 李四: 送客
[2026-11-27 09:45] 钱七: 回来
[2026-11-27 09:50] 钱七: 到访 陈四 13800000004
"""

PROJECT = "阳光花园"
TZ = ZoneInfo("Asia/Shanghai")
OPEN_IDS = {"张经理": "ou_manager", "李四": "ou_li", "王五": "ou_wang", "赵六": "ou_zhao", "钱七": "ou_qian"}
NAMES = {oid: name for name, oid in OPEN_IDS.items()}
GROUP = "oc_group"

CONFIG = f"""\
timezone: Asia/Shanghai
policy:
  preset: real_estate
projects:
  - name: {PROJECT}
    shift: {{start: "09:00", end: "18:00"}}
    managers: [{{name: 张经理, feishu: {OPEN_IDS["张经理"]}}}]
    salespeople:
      - {{name: 李四, feishu: {OPEN_IDS["李四"]}}}
      - {{name: 王五, feishu: {OPEN_IDS["王五"]}}}
      - {{name: 赵六, feishu: {OPEN_IDS["赵六"]}}}
      - {{name: 钱七, feishu: {OPEN_IDS["钱七"]}}}
    chats: {{feishu: [{GROUP}]}}
"""

LINE = re.compile(r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2})\]\s*(.+?)\s*[:：]\s?(.*)$")
OUT = re.compile(r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?)\] → (群|.+?\(私聊\)): (.*)$")
AT_TAG = re.compile(r'<at user_id="([^"]*)"></at>')
COMPARED = ("next", "queue", "customers", "deals")


def transcript_lines() -> list[tuple[datetime, str, str]]:
    out = []
    for raw in TRANSCRIPT.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        mt = LINE.match(raw.strip())
        assert mt, raw
        at = datetime.strptime(mt.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=TZ)
        out.append((at, mt.group(2), mt.group(3)))
    return out


def run_replay(tmp_path, capsys) -> tuple[list[tuple[str, str]], dict]:
    """(target, text) of every message replay printed, in order, and its final state."""
    from bot.cli import main

    script, cfg = tmp_path / "transcript.txt", tmp_path / "replay.yaml"
    script.write_text(TRANSCRIPT, encoding="utf-8")
    cfg.write_text(CONFIG, encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", str(script), "--config", str(cfg), "--state"]) == 0
    out = capsys.readouterr().out
    messages_part, sep, state_part = out.partition("=== state ===\n")
    assert sep, out
    messages: list[list[str]] = []
    for line in messages_part.splitlines():
        mt = OUT.match(line)
        if mt:
            target = "群" if mt.group(2) == "群" else mt.group(2).removesuffix("(私聊)")
            messages.append([target, mt.group(3)])
        else:
            assert messages, f"replay printed text before any message: {line!r}"
            messages[-1][1] += "\n" + line
    return [(t, text) for t, text in messages], json.loads(state_part)


def sent_text(msg: dict) -> str:
    """What a member reads: the text (or the card's body) with each <at> tag shown as the name it replaced."""
    content = msg["content"]
    if msg["msg_type"] == "interactive":
        text = content["elements"][0]["text"]["content"]
        return re.sub(r"<at id=([^>]*)></at>", lambda m: NAMES.get(m.group(1), m.group(0)), text)
    return AT_TAG.sub(lambda m: NAMES.get(m.group(1), m.group(0)), content.get("text", ""))


def run_feishu(fake, start_adapter, tmp_path) -> tuple[list[tuple[str, str]], list[dict], dict]:
    """(target, text) of every message sent to Feishu, in order, the raw sends, and the final state."""
    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    from bot.config import load_config
    from handlers.state_view import dump

    lines = transcript_lines()
    cfg = tmp_path / "feishu.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    app = bootstrap(load_config(cfg), db_url=f"sqlite:///{tmp_path / 'feishu.db'}", clock=FakeClock(lines[0][0]))
    port = CountingPort(app)
    start_adapter(port)
    fake.wait_connected()

    for i, (at, sender, text) in enumerate(lines, 1):
        app.clock.set(at)                   # each line arrives at its transcript time
        fake.push(
            message_event(
                text,
                sender=OPEN_IDS[sender],
                chat_id=GROUP,
                message_id=f"om_parity_{i:02d}",
                create_ms=int(at.timestamp() * 1000),
            )
        )
        wait_for(lambda i=i: len(port.results) == i, what=f"line {i} handled: {sender}: {text}")
    outgoing = sum(len(outs) for _, outs in port.results)
    wait_for(lambda: len(fake.sent) == outgoing, what=f"{outgoing} messages sent")

    with fake.lock:
        sent = list(fake.sent)
    messages = [
        ("群" if m["receive_id_type"] == "chat_id" else NAMES.get(m["receive_id"], m["receive_id"]), sent_text(m))
        for m in sent
    ]
    return messages, sent, dump(app.engine, app.projects[PROJECT], lines[-1][0])


@pytest.fixture(scope="module")
def feishu_run(tmp_path_factory):
    """The transcript through the fake Feishu server and the adapter, once for the module
    (the sender's 5 messages/s per chat makes one run take ~3 s)."""
    fake, adapters = FakeFeishu(), []

    def start_adapter(bot):
        from bot.adapters.feishu.adapter import FeishuAdapter, FeishuSettings

        adapter = FeishuAdapter(
            bot, FeishuSettings(app_id=APP_ID, app_secret=APP_SECRET, domain=fake.url, bot_name=BOT_NAME), bot.clock
        )
        adapters.append(adapter)
        adapter.start()
        return adapter

    try:
        yield run_feishu(fake, start_adapter, tmp_path_factory.mktemp("feishu"))
    finally:
        for adapter in adapters:
            adapter.stop()
        fake.close()


@pytest.fixture
def both(feishu_run, tmp_path, capsys):
    replay_msgs, replay_state = run_replay(tmp_path, capsys)
    feishu_msgs, feishu_raw, feishu_state = feishu_run
    return replay_msgs, replay_state, feishu_msgs, feishu_raw, feishu_state


def test_same_final_state(both):
    _, replay_state, _, _, feishu_state = both
    assert replay_state["queue"], "the replay ended with an empty queue: the scenario did not run"
    assert {k: feishu_state[k] for k in COMPARED} == {k: replay_state[k] for k in COMPARED}
    assert feishu_state["project"] == replay_state["project"] == PROJECT
    assert feishu_state["date"] == replay_state["date"]
    # RULES §3 worked example (scenario 03's expect.json)
    assert replay_state["next"] == "王五"
    assert [(e["name"], e["presence"], e["counted"]) for e in replay_state["queue"]] == [
        ("王五", "available", 0),
        ("赵六", "available", 1),
        ("李四", "available", 2),
        ("钱七", "busy", 1),
    ]


def test_same_group_replies_in_same_order(both):
    replay_msgs, _, feishu_msgs, feishu_raw, _ = both
    replay_group = [text for target, text in replay_msgs if target == "群"]
    feishu_group = [text for target, text in feishu_msgs if target == "群"]
    assert len(replay_group) >= len(transcript_lines())  # every line answered in the group
    assert feishu_group == replay_group
    # every group message went to the bound chat, and nothing else was sent (no private messages here)
    assert all(m["receive_id"] == GROUP for m in feishu_raw if m["receive_id_type"] == "chat_id")
    assert feishu_msgs == replay_msgs


def test_next_up_is_mentioned_in_feishu(both):
    _, _, _, feishu_raw, _ = both
    for m in feishu_raw:
        text = m["content"].get("text", "")
        nxt = re.search(r"下一位:(\S+)$", sent_text(m))
        if nxt and not nxt.group(1).startswith("无"):
            assert text.endswith(f'<at user_id="{OPEN_IDS[nxt.group(1)]}"></at>'), text
