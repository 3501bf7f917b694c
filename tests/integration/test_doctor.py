"""`reception-bot doctor` (issue 21 item 7): one line per check, exit 1 on any failure; platforms against the fakes."""
from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.doctor import doctor
from tests.conftest import BASIC_CONFIG, at


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def deployment(tmp_path):
    """A config (its ops port free) and a database migrated by a first start."""
    port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(BASIC_CONFIG % {"preset": "real_estate"} + f"ops: {{port: {port}}}\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path}/reception.db"
    bootstrap(cfg, db_url=db, clock=FakeClock(at("2026-11-27 09:00")))
    return SimpleNamespace(config=str(cfg), db=db, port=port)


def run(d, env: dict | None = None, db: str | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = doctor(SimpleNamespace(config=d.config, db=db or d.db), env or {}, lines.append)
    return code, lines


def test_a_ready_deployment_passes_every_check_one_line_each(deployment):
    code, lines = run(deployment)
    assert code == 0, lines
    assert [line.split(":")[0] for line in lines] == ["OK    配置", "OK    数据库", "OK    时钟", "OK    平台",
                                                      "OK    网页端口", "OK    中文字体"]


def test_an_unreachable_wechat_service_a_taken_port_and_an_unmigrated_database_each_fail(deployment, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", deployment.port))
        code, lines = run(deployment, {"WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{free_port()}"},
                          db=f"sqlite:///{tmp_path}/new.db")
    failed = [x.split(":")[0] for x in lines if x.startswith("FAIL")]
    assert code == 1 and failed == ["FAIL  数据库", "FAIL  微信 puppet 服务", "FAIL  网页端口"], lines


def test_a_database_that_does_not_answer_fails_in_one_line(deployment):
    code, lines = run(deployment, db="postgresql://bot@127.0.0.1:1/reception")
    assert code == 1 and lines[1].startswith("FAIL  数据库: ") and lines[2].startswith("FAIL  时钟: ")
    assert all("\n" not in x for x in lines)


def test_a_broken_config_is_the_one_failure_said(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("projects: []\n", encoding="utf-8")
    out: list[str] = []
    assert doctor(SimpleNamespace(config=str(bad), db=None), {}, out.append) == 1
    assert len(out) == 1 and out[0].startswith("FAIL  配置: ")
