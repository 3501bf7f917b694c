"""Operator mistakes and database faults: one line on stderr naming the key or the fault, exit code 2,
no traceback (`--debug` shows it). The CLI runs in-process (main + capsys) and, for a few, as a process."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from bot.cli import main
from storage.pgcluster import free_port
from tests.conftest import BASIC_CONFIG, ROOT
from tests.waits import patience

GOOD = BASIC_CONFIG % {"preset": "real_estate"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def say(capsys, cfg, db: str = "sqlite://", text: str = "/开班"):
    return run(capsys, "say", "--config", str(cfg), "--db", db, "--at", "2026-11-27 09:30", "张经理", text)


def assert_one_line(rc: int, out: str, err: str, *words: str) -> None:
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])


def edited(tmp_path, old: str, new: str, name: str = "c.yaml"):
    assert old in GOOD
    path = tmp_path / name
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    return path


POLICY = "policy: {preset: real_estate}"
CONFIG_MISTAKES = [
    # (what is replaced, by what, words the one line must carry)
    ("managers: [张经理]", "managers: 张经理", ["projects.0.managers", "列表", "[张经理]"]),
    ("salespeople: [李四, 王五, 赵六, 钱七]", "salespeople: 李四 王五", ["projects.0.salespeople", "列表"]),
    ("managers: [张经理]", "managers: {name: 张经理}", ["projects.0.managers", "列表"]),
    (POLICY, "policy: {preset: real_estate, tracking_days: 1000000000}", ["policy.tracking_days", "1–365"]),
    (POLICY, "policy: {preset: real_estate, tracking_days: -3}", ["policy.tracking_days", "1–365"]),
    (POLICY, "policy: {preset: real_estate, tracking_days: 0}", ["policy.tracking_days"]),
    (POLICY, "policy: {preset: real_estate, tracking_days: seven}", ["policy.tracking_days", "整数"]),
    (POLICY, "policy: {preset: real_estate, deal_split: 7}", ["policy.deal_split", "0.0–1.0"]),
    (POLICY, "policy: {preset: real_estate, big_order_units: 0}", ["policy.big_order_units", "1–99"]),
    (POLICY, "policy: {preset: real_estate, max_reception_minutes: 100000}", ["policy.max_reception_minutes"]),
    (POLICY, "policy: {preset: real_estate, non_buyer_window_minutes: -1}", ["policy.non_buyer_window_minutes"]),
    (POLICY, "policy: {preset: real_estate, deal_appeal_days: 9999}", ["policy.deal_appeal_days"]),
    (POLICY, "policy: {preset: real_estate, brought_closed_counted: sometimes}", ["brought_closed_counted"]),
    (POLICY, "policy: {preset: real_estate, tracking_dayz: 7}", ["policy", "tracking_dayz"]),
    (POLICY, "policy: {preset: realestate}", ["policy.preset", "realestate", "real_estate"]),
    (POLICY, 'policy: {quiet_hours: "21:00-08:30"}', ["policy.quiet_hours", '["21:00", "08:30"]']),
    (POLICY, 'policy: {quiet_hours: ["21:00"]}', ["policy.quiet_hours"]),
    (POLICY, 'policy: {quiet_hours: ["25:00", "08:30"]}', ["policy.quiet_hours[0]", "时间"]),
    ("    managers:", "    policy: {tracking_days: 400}\n    managers:", ["projects.0.policy.tracking_days"]),
    ('shift: {start: "09:00", end: "18:00"}', 'shift: {start: "19:00", end: "18:00"}', ["projects.0.shift"]),
    ("timezone: Asia/Shanghai", "timezone: Mars/Base", ["timezone", "Mars/Base"]),
    ("  - name: 阳光花园", "  - name: 阳光花园\n    chats: oc_group", ["projects.0.chats"]),
    ("projects:", "project:", ["project"]),
]


@pytest.mark.parametrize("old,new,words", CONFIG_MISTAKES, ids=[m[1][:40] for m in CONFIG_MISTAKES])
def test_a_config_mistake_is_one_line_naming_the_key_and_exit_2(tmp_path, capsys, old, new, words):
    assert_one_line(*say(capsys, edited(tmp_path, old, new)), "配置错误", *words)


def test_the_good_config_works(tmp_path, capsys):
    rc, out, err = say(capsys, edited(tmp_path, "", ""))
    assert rc == 0 and "开班" in out and err == ""


def test_a_config_that_is_not_utf8_a_directory_missing_or_not_yaml_is_one_line(tmp_path, capsys):
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(GOOD.encode("gbk"))
    assert_one_line(*say(capsys, gbk), "UTF-8", "第 5 行")  # the first Chinese: the project name
    assert_one_line(*say(capsys, tmp_path), "是一个目录")
    assert_one_line(*say(capsys, tmp_path / "nope.yaml"), "找不到配置文件")
    broken = tmp_path / "broken.yaml"
    broken.write_text("projects: [\n  - name: x\n", encoding="utf-8")
    assert_one_line(*say(capsys, broken), "YAML", "行")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    assert_one_line(*say(capsys, listed), "整个文件")
    dup = tmp_path / "dup.yaml"
    dup.write_text(GOOD + GOOD.split("projects:\n", 1)[1], encoding="utf-8")
    assert_one_line(*say(capsys, dup), "项目重名", "阳光花园")


def test_a_bad_or_unreachable_database_url_is_one_line(tmp_path, capsys):
    cfg = edited(tmp_path, "", "")
    assert_one_line(*say(capsys, cfg, "not a url"), "数据库错误", "无法识别")
    assert_one_line(*say(capsys, cfg, "mysql+nodriver://u:pw@h/db"), "无法识别", "mysql+nodriver://")
    assert_one_line(*say(capsys, cfg, "postgresql://u@[::1:1/x"), "无法识别")
    port = free_port()                               # nothing listens there
    rc, out, err = say(capsys, cfg, f"postgresql://u:s3cret@127.0.0.1:{port}/x")
    assert_one_line(rc, out, err, "连不上数据库", f"127.0.0.1:{port}")
    assert "s3cret" not in err                       # the password is never printed


def test_a_corrupt_read_only_or_directory_sqlite_file_is_one_line(tmp_path, capsys):
    cfg = edited(tmp_path, "", "")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 300)
    assert_one_line(*say(capsys, cfg, f"sqlite:///{corrupt}"), "已损坏或不是数据库")
    good = tmp_path / "r.db"
    assert say(capsys, cfg, f"sqlite:///{good}", "轮排")[0] == 0
    read_only = f"sqlite:///file:{good}?mode=ro&uri=true"      # SQLite's own read-only open (root ignores chmod)
    assert_one_line(*say(capsys, cfg, read_only), "只读")
    assert_one_line(*say(capsys, cfg, f"sqlite:///{tmp_path}"), "是一个目录")


class Proxy:
    """A TCP relay to PostgreSQL that can be cut, like a network or server outage."""

    def __init__(self, port: int):
        self.target, self.socks = port, []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass

    def cut(self):
        self.server.shutdown(socket.SHUT_RDWR)      # wakes the blocked accept(): no new connections
        self.server.close()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def test_a_postgresql_outage_during_say_is_one_line(tmp_path, capsys, pg_url, monkeypatch):
    from bot.app import App
    url = pg_url.rsplit("/", 1)
    proxy = Proxy(int(url[0].rsplit(":", 1)[1]))
    via = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{url[1]}"
    cfg = edited(tmp_path, "", "")
    original = App.handle

    def handle_after_the_outage(self, msg):
        proxy.cut()                                  # started, migrated, ran due work; now the database is gone
        return original(self, msg)

    monkeypatch.setattr(App, "handle", handle_after_the_outage)
    assert_one_line(*say(capsys, cfg, via), "数据库错误", "连不上数据库", f"127.0.0.1:{proxy.port}")


def test_debug_shows_the_traceback_and_a_process_exits_2(tmp_path):
    cfg = edited(tmp_path, "managers: [张经理]", "managers: 张经理")
    base = [sys.executable, "-m", "bot.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(base + ["say", "--config", str(cfg), "张经理", "轮排"], capture_output=True, text=True,
                       env=env, timeout=patience(60))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "projects.0.managers" in r.stderr
    for argv in (["--debug", "say"], ["say", "--debug"]):
        r = subprocess.run(base + argv + ["--config", str(cfg), "张经理", "轮排"], capture_output=True, text=True,
                           env=env, timeout=patience(60))
        assert r.returncode == 2 and "Traceback" in r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith("配置错误")
