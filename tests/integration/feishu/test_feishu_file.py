"""Outgoing.file through the Feishu adapter: text, then the upload (im/v1/files), then a "file" message.

The real lark-oapi SDK against the local fake Feishu server (offline); waits poll with wait_for.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from feishu_fake import PROJECT, RecordingBot, message_event, wait_for
from openpyxl import Workbook, load_workbook

from bot.adapters.feishu.sender import feishu_uuid
from handlers.messages import Incoming, Outgoing
from rules.texts import FILE_FAILED

MANAGER, MANAGER_ID = "张经理", "ou_manager"
EXPORT_TEXT = "导出完成:阳光花园_2026-01-01_2026-01-31.xlsx(登记、接待、成交)"


class ExportBot(RecordingBot):
    """RecordingBot that answers the manager's private "/导出" with the text and a workbook."""

    def __init__(self, workbook: Path, **kw):
        super().__init__(**kw)
        self.workbook = workbook

    def handle(self, msg: Incoming) -> list[Outgoing]:
        if msg.text == "/导出" and msg.private and msg.sender_id == MANAGER_ID:
            with self._lock:
                self.calls.append(msg)
                self.handled.append(msg)
            return [
                Outgoing(
                    EXPORT_TEXT,
                    to=MANAGER,
                    project=PROJECT,
                    key=f"r:{msg.event_id}",
                    file=str(self.workbook),
                )
            ]
        return super().handle(msg)


@pytest.fixture
def workbook(tmp_path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "来访客户登记表"
    ws.append(["日期", "客户", "电话", "接待"])
    ws.append(["2026-01-05", "张三", "13812345678", "李四"])
    path = tmp_path / "阳光花园_2026-01-01_2026-01-31.xlsx"
    wb.save(path)
    return path


def export_from_manager(fake, start_adapter, bot, message_id: str = "om_export"):
    start_adapter(bot)
    fake.wait_connected()
    fake.push(message_event("/导出", sender=MANAGER_ID, chat_id="oc_p2p_mgr", chat_type="p2p", message_id=message_id))


def test_export_sends_text_then_the_uploaded_file_privately(fake, start_adapter, workbook, tmp_path):
    bot = ExportBot(workbook)
    export_from_manager(fake, start_adapter, bot)

    text, filed = wait_for(lambda: len(fake.sent_to(MANAGER_ID)) == 2 and fake.sent_to(MANAGER_ID), what="2 sends")
    # the text as usual, private by open_id
    assert text["receive_id_type"] == "open_id" and text["msg_type"] == "text"
    assert text["content"]["text"] == EXPORT_TEXT and text["uuid"] == "r:feishu:om_export"
    # the upload: the workbook's bytes, its name, file_type xls, as multipart form fields
    [up] = fake.uploads
    assert up["data"] == workbook.read_bytes()
    assert up["file_name"] == workbook.name and up["file_name"].endswith(".xlsx")
    assert up["file_type"] == "xls"
    assert {"file_type", "file_name", "file"} <= set(up["fields"])
    saved = tmp_path / "received.xlsx"
    saved.write_bytes(up["data"])
    assert load_workbook(saved)["来访客户登记表"]["B2"].value == "张三"
    # then the file message to the same open_id, with that file_key and its own idempotency uuid
    assert filed["receive_id_type"] == "open_id" and filed["msg_type"] == "file"
    assert filed["content"] == {"file_key": up["file_key"]} and up["file_key"].startswith("file_v3_")
    assert filed["uuid"] == feishu_uuid("r:feishu:om_export:file") != text["uuid"]
    assert text["at"] < up["at"] < filed["at"]  # text, upload, file: in that order
    assert fake.sent_to("oc_group") == [] and fake.sent_to("oc_p2p_mgr") == []


def test_upload_failure_sends_a_fallback_text_and_the_adapter_keeps_working(
    fake, start_adapter, workbook, caplog
):
    # Feishu's answer when im:resource is not granted: permanent, not retried
    fake.upload_fail_always = (400, 99991672)
    bot = ExportBot(workbook)
    with caplog.at_level(logging.ERROR, logger="bot.adapters.feishu.sender"):
        export_from_manager(fake, start_adapter, bot)
        wait_for(lambda: len(fake.sent_to(MANAGER_ID)) == 2, what="the text and the fallback")
    text, fallback = fake.sent_to(MANAGER_ID)
    assert text["content"]["text"] == EXPORT_TEXT
    assert fallback["msg_type"] == "text" and fallback["content"]["text"] == FILE_FAILED
    assert fallback["receive_id_type"] == "open_id" and fallback["uuid"] not in (None, text["uuid"])
    assert fake.uploads == [] and fake.upload_attempts == 1
    assert any("upload" in r.getMessage() and "99991672" in r.getMessage() for r in caplog.records)
    # the worker and the sender live on: the next command gets its reply
    fake.push(message_event("签到", sender=MANAGER_ID, chat_id="oc_p2p_mgr", chat_type="p2p", message_id="om_n"))
    wait_for(lambda: len(fake.sent_to(MANAGER_ID)) == 3, what="the reply to the next command")
    assert fake.texts_to(MANAGER_ID)[2].startswith("收到:签到")
    assert all(m["msg_type"] == "text" for m in fake.sent_to(MANAGER_ID))


def test_transient_upload_failure_is_retried(fake, start_adapter, workbook):
    fake.upload_fail_plan.extend([(500, 1), (429, 99991400)])  # a server error, then a rate limit
    bot = ExportBot(workbook)
    export_from_manager(fake, start_adapter, bot)
    wait_for(lambda: len(fake.sent_to(MANAGER_ID)) == 2, what="the text and the file")
    filed = fake.sent_to(MANAGER_ID)[1]
    [up] = fake.uploads
    assert fake.upload_attempts == 3
    assert filed["msg_type"] == "file" and filed["content"] == {"file_key": up["file_key"]}
    assert up["data"] == workbook.read_bytes()


def test_missing_file_falls_back_without_uploading(fake, start_adapter, tmp_path):
    bot = ExportBot(tmp_path / "gone.xlsx")
    export_from_manager(fake, start_adapter, bot)
    wait_for(lambda: len(fake.sent_to(MANAGER_ID)) == 2, what="the text and the fallback")
    assert fake.texts_to(MANAGER_ID) == [EXPORT_TEXT, FILE_FAILED]
    assert fake.upload_attempts == 0


def test_file_to_every_chat_of_the_project_uploads_once(fake, start_adapter, workbook):
    bot = RecordingBot(chats=["oc_a", "oc_b"])
    adapter = start_adapter(bot)
    adapter.send([Outgoing("本月报表", project=PROJECT, key="report:2026-01", file=str(workbook))])
    for chat in ("oc_a", "oc_b"):
        wait_for(lambda c=chat: len(fake.sent_to(c)) == 2, what=f"text and file in {chat}")
    [up] = fake.uploads
    for chat in ("oc_a", "oc_b"):
        text, filed = fake.sent_to(chat)
        assert text["receive_id_type"] == "chat_id" and text["content"]["text"] == "本月报表"
        assert filed["msg_type"] == "file" and filed["content"] == {"file_key": up["file_key"]}
        assert filed["uuid"] == feishu_uuid("report:2026-01:file", chat)
    assert fake.sent_to("oc_a")[1]["uuid"] != fake.sent_to("oc_b")[1]["uuid"]


def test_refused_file_message_falls_back_to_text(fake, start_adapter, workbook):
    fake.fail_plan.extend([None, (400, 230099, "")])  # the text goes through, the file message is refused
    bot = ExportBot(workbook)
    export_from_manager(fake, start_adapter, bot)
    wait_for(lambda: len(fake.sent_to(MANAGER_ID)) == 2, what="the text and the fallback")
    assert fake.texts_to(MANAGER_ID) == [EXPORT_TEXT, FILE_FAILED]
    assert [a["msg_type"] for a in fake.attempts] == ["text", "file", "text"]
    assert len(fake.uploads) == 1
