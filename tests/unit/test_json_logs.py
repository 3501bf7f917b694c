"""LOG_FORMAT=json (issue 21 item 5): one JSON object a line, the message's fields, never a phone."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from bot import logsetup

PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def configured():
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def make(env):
        stream = io.StringIO()
        logsetup.configure(env, "INFO", stream, force=True)
        return stream
    yield make
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_json_lines_carry_time_level_logger_and_the_message_s_fields_and_never_a_phone(configured):
    out = configured({"LOG_FORMAT": "json"})
    log = logging.getLogger("reception")
    with logsetup.context(platform="feishu", event_id="feishu:om_13812345678", verb="到访"):
        logsetup.add_context(project="阳光花园")
        log.info("到访 张三 %s", "13812345678", extra={"customer": "张三 139 1234 5678"})
        try:
            raise ValueError("phone 13812345678")
        except ValueError:
            log.exception("failed")
    log.warning("outside")
    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    first = records[0]
    assert {k: first[k] for k in ("level", "logger", "project", "platform", "verb")} == {
        "level": "INFO", "logger": "reception", "project": "阳光花园", "platform": "feishu", "verb": "到访"}
    assert first["message"] == "到访 张三 138****5678" and first["event_id"] == "feishu:om_138****5678"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", first["time"])
    assert "ValueError" in records[1]["exc_info"]
    assert records[2]["project"] is None and records[2]["verb"] is None        # the context ended with the block
    assert not PHONE.search(out.getvalue().replace(" ", "")), out.getvalue()


def test_the_default_stays_a_human_readable_line(configured):
    out = configured({})
    logging.getLogger("reception").warning("到访 %s", "13812345678")
    line = out.getvalue().strip()
    assert not line.startswith("{") and line.endswith("WARNING reception: 到访 138****5678")
