"""Outgoing.file (the /导出 workbook): the text, then the file by MessageSendFile, to the same target."""
from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from openpyxl import Workbook, load_workbook

from handlers.messages import Incoming, Outgoing
from rules.texts import FILE_FAILED

from .conftest import PROJECT, ROOM, ZHANG, Harness, RecordingBot, wait_until
from .fake_puppet import Sent, SentFile

# FileBox.from_file sets the deprecated `mimeType` through `Logger.warn` (wechaty_puppet 0.4.23)
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")
DONE = "导出完成:2025-03-01 至 2025-03-31"


class ExportBot(RecordingBot):
    """The manager 张三's private "/导出" answers with the workbook; anything else private is echoed."""

    def __init__(self, workbook: Path) -> None:
        super().__init__()
        self.workbook = workbook
        self.script = self.export_script

    def export_script(self, msg: Incoming) -> list[Outgoing]:
        if msg.private and msg.text == "/导出" and msg.sender_id == ZHANG:
            return [Outgoing(text=DONE, to="张三", project=PROJECT, file=str(self.workbook),
                             key=f"export:{msg.event_id}")]
        return [Outgoing(text=f"收到:{msg.text}", project=PROJECT)]


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    wb = Workbook()
    wb.active.title = "来访客户登记表"
    wb.active.append(["日期", "客户", "接待人"])
    wb.active.append(["2025-03-03", "王先生", "李四"])
    path = tmp_path / "望京壹号_导出_20250301-20250331.xlsx"
    wb.save(path)
    return path


def test_export_sends_the_text_then_the_workbook_to_the_manager(run, workbook: Path) -> None:
    async def scenario(h: Harness) -> None:
        h.service.push_message("m-export-1", ZHANG, "/导出")
        await wait_until(lambda: h.service.files, what="the workbook")
        to_manager = [o for o in h.service.outbox if o.conversation_id == ZHANG]
        assert [type(o) for o in to_manager] == [Sent, SentFile]
        text, file = to_manager
        assert text.text == DONE
        assert file.name.endswith(".xlsx") and file.name == workbook.name
        assert file.data == workbook.read_bytes()
        assert load_workbook(io.BytesIO(file.data)).active["B2"].value == "王先生"
        assert h.service.outbox == to_manager  # nothing to the room or anyone else
        assert [m.event_id for m in h.bot.handled] == ["wechat:m-export-1"]

    run(scenario, bot=ExportBot(workbook))


def test_file_send_failure_says_so_and_the_adapter_lives_on(run, workbook: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(h: Harness) -> None:
        h.service.file_error = GRPCError(Status.INTERNAL, "upload failed")
        h.service.push_message("m-export-2", ZHANG, "/导出")
        await wait_until(lambda: len(h.replies(ZHANG)) == 2, what="the fallback text")
        assert [s.text for s in h.replies(ZHANG)] == [DONE, FILE_FAILED]
        assert h.service.calls["MessageSendFile"] == 1 and not h.service.files
        [record] = [r for r in caplog.records if "cannot send the file" in r.getMessage()]
        assert record.exc_info and workbook.name in record.getMessage()
        assert not any("cannot deliver" in r.getMessage() for r in caplog.records)

        h.service.push_message("m-after-export", ZHANG, "你好")
        await wait_until(lambda: len(h.replies(ZHANG)) == 3, what="the next reply")
        assert h.replies(ZHANG)[-1].text == "收到:你好" and h.adapter.connected

    run(scenario, bot=ExportBot(workbook))


def test_a_missing_file_from_the_scheduler_thread_says_so_in_the_room(run, tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        gone = tmp_path / "gone.xlsx"  # FileBox.from_file fails before any gRPC call
        await asyncio.to_thread(h.adapter.send, [Outgoing(text="月报", project=PROJECT, file=str(gone))])
        assert [s.text for s in h.replies(ROOM)] == ["月报", FILE_FAILED]
        assert h.service.calls["MessageSendFile"] == 0

    run(scenario)


def test_a_chart_png_goes_to_the_room_as_an_image_file(run, tmp_path: Path) -> None:
    png = tmp_path / "阳光花园_week.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    async def scenario(h: Harness) -> None:
        await asyncio.to_thread(h.adapter.send, [Outgoing(text="【周报】", project=PROJECT, file=str(png))])
        await wait_until(lambda: h.service.files, what="the chart")
        [sent] = h.service.files
        assert sent.name == png.name and sent.data == png.read_bytes()
        assert [s.text for s in h.replies(ROOM)] == ["【周报】"]

    run(scenario)


def test_a_chart_that_cannot_be_sent_keeps_the_text_and_says_so(run, tmp_path: Path) -> None:
    from rules.texts import IMAGE_FAILED

    async def scenario(h: Harness) -> None:
        gone = tmp_path / "gone.png"
        await asyncio.to_thread(h.adapter.send, [Outgoing(text="【月报】", project=PROJECT, file=str(gone))])
        assert [s.text for s in h.replies(ROOM)] == ["【月报】", IMAGE_FAILED]

    run(scenario)
