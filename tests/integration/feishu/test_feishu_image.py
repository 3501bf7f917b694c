"""A chart (Outgoing.file ending .png, /周报 /月报) goes to Feishu as an image: im/v1/images, then
an "image" message after the text; when the upload fails the text still went and IMAGE_FAILED follows.

The real lark-oapi SDK against the local fake Feishu server (offline).
"""

from __future__ import annotations

import struct
import zlib

from feishu_fake import PROJECT, RecordingBot, wait_for

from bot.adapters.feishu.sender import feishu_uuid
from handlers.messages import Outgoing
from rules.texts import IMAGE_FAILED


def tiny_png(path):
    """A valid 1×1 PNG (no matplotlib needed here)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    raw += chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    path.write_bytes(raw)
    return path


def test_chart_png_goes_as_an_image_message_after_the_text(fake, start_adapter, tmp_path):
    png = tiny_png(tmp_path / "阳光花园_week.png")
    adapter = start_adapter(RecordingBot(chats=["oc_group"]))
    adapter.send([Outgoing("【周报】阳光花园", project=PROJECT, key="r:week", file=str(png))])
    text, image = wait_for(lambda: len(fake.sent_to("oc_group")) == 2 and fake.sent_to("oc_group"), what="2 sends")
    [up] = fake.images
    assert text["msg_type"] == "text" and text["content"]["text"] == "【周报】阳光花园"
    assert up["data"] == png.read_bytes() and {"image_type", "image"} <= set(up["fields"])
    assert image["msg_type"] == "image" and image["content"] == {"image_key": up["image_key"]}
    assert image["uuid"] == feishu_uuid("r:week:file") != text["uuid"]
    assert fake.uploads == []            # not sent as a file attachment


def test_failed_image_upload_keeps_the_text_and_says_so(fake, start_adapter, tmp_path):
    fake.upload_fail_always = (400, 99991672)        # no im:resource permission: permanent
    png = tiny_png(tmp_path / "chart.png")
    adapter = start_adapter(RecordingBot(chats=["oc_group"]))
    adapter.send([Outgoing("【月报】阳光花园", project=PROJECT, key="r:month", file=str(png))])
    wait_for(lambda: len(fake.sent_to("oc_group")) == 2, what="the text and the notice")
    assert fake.texts_to("oc_group") == ["【月报】阳光花园", IMAGE_FAILED]
    assert fake.images == []
