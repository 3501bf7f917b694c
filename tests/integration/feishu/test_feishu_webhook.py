"""The Feishu webhook refuses what Feishu did not send: unsigned, forged, stale, huge or stalled requests.

Every case goes through the real lark-oapi dispatcher and the fake Feishu server; the good case is
applied by the real core. A refusal is one log line with the reason, never a traceback."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from feishu_fake import encrypt, message_event, signed_headers, started_core, wait_for

from bot.adapters.feishu import webhook as feishu_webhook
from bot.adapters.feishu.adapter import FeishuSettings
from bot.config import ConfigError
from tests.clock import WALL
from tests.waits import patience

KEY, TOKEN = "webhook-encrypt-key", "webhook-verification-token"
CONFIG = """\
timezone: Asia/Shanghai
projects:
  - name: 阳光花园
    managers: [{name: 张经理, feishu: ou_manager}]
    salespeople: [{name: 李四, feishu: ou_lisi}, {name: 王五, feishu: ou_wangwu}]
    chats: {feishu: [oc_group]}
ops: {port: 0}                    # health endpoints on any free port: tests run side by side
"""


def webhook(start_adapter, bot, **overrides):
    adapter = start_adapter(bot, mode="webhook", webhook_host="127.0.0.1", webhook_port=0,
                            encrypt_key=KEY, verification_token=TOKEN, **overrides)
    return adapter, f"http://127.0.0.1:{adapter.webhook_address[1]}/feishu/events"


def opening(message_id: str) -> bytes:
    return encrypt(message_event("/开班 李四 王五", sender="ou_manager", message_id=message_id, token=TOKEN), KEY)


def refusals(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "refused" in r.getMessage() or r.name == "Lark"]


def assert_one_line(caplog, reason: str) -> None:
    (rec,) = refusals(caplog)
    assert reason in rec.getMessage() and rec.exc_info is None and "\n" not in rec.getMessage()
    caplog.clear()


@pytest.fixture
def real_core(tmp_path, wall):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return started_core(path, f"sqlite:///{tmp_path}/r.db")     # the webhook thread stores while the worker handles


def test_webhook_mode_refuses_to_start_without_both_secrets_naming_them():
    for key, token, missing in (("", "", "FEISHU_ENCRYPT_KEY、FEISHU_VERIFICATION_TOKEN"),
                                ("k", "", "FEISHU_VERIFICATION_TOKEN"), ("", "t", "FEISHU_ENCRYPT_KEY")):
        with pytest.raises(ConfigError, match=missing):
            FeishuSettings("cli_x", "s", mode="webhook", encrypt_key=key, verification_token=token)
    assert FeishuSettings("cli_x", "s", mode="ws").mode == "ws"  # the long connection needs neither


def test_run_in_webhook_mode_without_the_secrets_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.replace("timezone: Asia/Shanghai", f"database: sqlite:///{tmp_path}/r.db"),
                   encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "WECHATY_"))}
    env.update(FEISHU_APP_ID="cli_x", FEISHU_APP_SECRET="s", FEISHU_MODE="webhook", FEISHU_ENCRYPT_KEY="k")
    r = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(cfg)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=patience(60))
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "FEISHU_ENCRYPT_KEY" in r.stderr and "FEISHU_VERIFICATION_TOKEN" in r.stderr
    assert not (tmp_path / "r.db").exists()  # refused before touching the database


def test_an_unsigned_plaintext_post_as_a_manager_is_refused_and_changes_nothing(
        start_adapter, real_core, caplog):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, real_core)
    plain = message_event("/开班 李四 王五", sender="ou_manager", message_id="om_plain", token=TOKEN)
    r = requests.post(url, json=plain, timeout=patience(5))
    assert r.status_code == 400 and "not encrypted" in r.text
    assert_one_line(caplog, "not encrypted")
    unsigned = opening("om_unsigned")  # encrypted with the right key, but without a signature
    assert requests.post(url, data=unsigned, timeout=patience(5)).status_code == 401
    assert_one_line(caplog, "no signature")
    time.sleep(0.3)
    assert real_core.results == []
    assert real_core.app.user_id("feishu", "阳光花园", "张经理") == "ou_manager"


def test_a_bad_signature_is_refused_with_one_line(start_adapter, recording_bot, caplog):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, recording_bot)
    body = opening("om_forged")
    headers = signed_headers(body, "a-guessed-key")
    assert requests.post(url, data=body, headers=headers, timeout=patience(5)).status_code == 401
    assert_one_line(caplog, "bad signature")
    tampered = signed_headers(body, KEY)
    assert requests.post(url, data=body + b" ", headers=tampered, timeout=patience(5)).status_code == 401
    assert_one_line(caplog, "bad signature")
    time.sleep(0.3)
    assert recording_bot.calls == []


def test_a_signature_more_than_five_minutes_off_is_refused(start_adapter, recording_bot, caplog):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, recording_bot)
    now = int(WALL.now().timestamp())
    for i, ts in enumerate((now - 301, now + 301, now - 86_400 * 365)):
        body = opening(f"om_stale_{i}")
        r = requests.post(url, data=body, headers=signed_headers(body, KEY, timestamp=str(ts)), timeout=patience(5))
        assert r.status_code == 401
        assert_one_line(caplog, "more than 300 s off")
    body = opening("om_fresh")  # 4 minutes off is still inside the window
    r = requests.post(url, data=body, headers=signed_headers(body, KEY, timestamp=str(now - 240)), timeout=patience(5))
    assert r.status_code == 200, r.text
    wait_for(lambda: [m.event_id for m in recording_bot.calls] == ["feishu:om_fresh"], what="the fresh one")


def raw_request(port: int, head: str, body: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=patience(5))
    s.sendall(head.encode() + body)
    return s


def read_all(s: socket.socket) -> bytes:
    chunks = []
    while chunk := s.recv(65536):
        chunks.append(chunk)
    s.close()
    return b"".join(chunks)


def test_a_body_over_one_megabyte_is_refused_from_its_length_without_reading_it(
        start_adapter, recording_bot, caplog):
    caplog.set_level(logging.INFO)
    adapter, _ = webhook(start_adapter, recording_bot)
    port = adapter.webhook_address[1]
    head = f"POST /feishu/events HTTP/1.1\r\nHost: x\r\nContent-Length: {100 * 2**20}\r\n\r\n"
    started = time.monotonic()
    s = raw_request(port, head)  # none of the 100 MB is sent: the answer must not wait for it
    answer = read_all(s)
    assert answer.startswith(b"HTTP/1.0 413") and time.monotonic() - started < 2
    assert_one_line(caplog, "over 1048576")
    s = raw_request(port, "POST /feishu/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert read_all(s).startswith(b"HTTP/1.0 411")
    assert_one_line(caplog, "chunked")
    just = encrypt(message_event("x" * (2**20 - 1500), message_id="om_big", token=TOKEN), KEY)
    assert len(just) > 2**20
    try:  # the server answers 413 and closes; the client may still be sending and see a reset instead
        r = requests.post(adapter_url(adapter), data=just, headers=signed_headers(just, KEY), timeout=patience(5))
        assert r.status_code == 413
    except requests.ConnectionError:
        pass
    wait_for(lambda: refusals(caplog), what="the refusal's log line")
    assert_one_line(caplog, "over 1048576")
    assert recording_bot.calls == []


def adapter_url(adapter) -> str:
    return f"http://127.0.0.1:{adapter.webhook_address[1]}/feishu/events"


def test_stalled_connections_are_closed_after_the_read_timeout_and_do_not_pile_up(
        start_adapter, recording_bot, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(feishu_webhook, "MAX_CONNECTIONS", 8)
    adapter, url = webhook(start_adapter, recording_bot, webhook_timeout=0.5)
    port = adapter.webhook_address[1]
    baseline = threading.active_count()
    body_stall = raw_request(port, "POST /feishu/events HTTP/1.1\r\nContent-Length: 500\r\n\r\n", b'{"encr')
    head_stall = raw_request(port, "POST /feishu/events HTTP/1.1\r\nContent-Le")
    crowd = [raw_request(port, "POST /feishu/events HTTP/1.1\r\n") for _ in range(30)]
    time.sleep(0.2)
    assert threading.active_count() <= baseline + 8  # the connections beyond the cap are closed at once
    started = time.monotonic()
    assert read_all(body_stall).startswith(b"HTTP/1.0 408")
    read_all(head_stall)  # closed by the server
    for s in crowd:
        read_all(s)
    assert time.monotonic() - started < 3
    wait_for(lambda: threading.active_count() <= baseline, timeout=3, what="the handler threads to end")
    assert any("stalled after 6 of 500 bytes" in r.getMessage() for r in refusals(caplog))
    assert all(r.exc_info is None for r in refusals(caplog))
    body = opening("om_after")  # the server still answers
    assert requests.post(url, data=body, headers=signed_headers(body, KEY), timeout=patience(5)).status_code == 200


def test_a_good_signed_event_is_applied_by_the_core_once(start_adapter, real_core, fake, caplog):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, real_core)
    body = opening("om_good")
    lower = {k.lower(): v for k, v in signed_headers(body, KEY).items()}  # proxies may lowercase headers
    assert requests.post(url, data=body, headers=lower, timeout=patience(5)).status_code == 200
    assert requests.post(url, data=body, headers=signed_headers(body, KEY), timeout=patience(5)).status_code == 200
    wait_for(lambda: len(real_core.accepted) == 2 and real_core.results, what="two deliveries, one handled")
    assert [new for _, new in real_core.accepted] == [True, False]      # the second: stored before, not handled
    [(first, outs)] = real_core.results
    assert first.event_id == "feishu:om_good"
    assert outs[0].text.endswith("下一位:李四")
    wait_for(lambda: fake.texts_to("oc_group"), what="the reply in the group")
    assert refusals(caplog) == []


def test_a_challenge_comes_unsigned_but_only_with_the_token(start_adapter, recording_bot, caplog):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, recording_bot)
    ok = {"challenge": "ch-1", "token": TOKEN, "type": "url_verification"}
    assert requests.post(url, data=encrypt(ok, KEY), timeout=patience(5)).json() == {"challenge": "ch-1"}
    bad = {**ok, "token": "guess"}
    assert requests.post(url, data=encrypt(bad, KEY), timeout=patience(5)).status_code == 500
    assert_one_line(caplog, "invalid verification_token")


class Drip:
    """`n` connections that send a request line, then one header byte a second; each one the server
    closes is opened again (as a slowloris does), its lifetime noted."""

    def __init__(self, port: int, n: int):
        self.port, self.lifetimes, self.stopped = port, [], threading.Event()
        self.socks = [self._open() for _ in range(n)]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self) -> tuple[socket.socket, float]:
        s = raw_request(self.port, "POST /feishu/events HTTP/1.1\r\nHost: x\r\nX-Drip: ")
        s.setblocking(False)
        return s, time.monotonic()

    def _run(self):
        while not self.stopped.wait(1.0):
            for i, (s, opened) in enumerate(self.socks):
                try:
                    if s.recv(1) == b"":            # closed by the server
                        raise ConnectionResetError
                except BlockingIOError:             # still open: one more byte
                    s.send(b"a")
                    continue
                except OSError:
                    pass
                self.lifetimes.append(time.monotonic() - opened)
                s.close()
                self.socks[i] = self._open()

    def stop(self):
        self.stopped.set()
        self.thread.join()
        for s, _ in self.socks:
            s.close()


def test_forty_connections_dripping_their_headers_neither_refuse_nor_delay_signed_events(
        start_adapter, recording_bot, caplog):
    caplog.set_level(logging.INFO)
    adapter, url = webhook(start_adapter, recording_bot, webhook_timeout=2.0)
    drip = Drip(adapter.webhook_address[1], 40)
    took, started = [], time.monotonic()
    try:
        time.sleep(1.2)                            # all 40 are in and dripping
        for i in range(10):                        # 5 s: across the drippers' deadline and their return
            body = opening(f"om_drip_{i}")
            t0 = time.monotonic()
            r = requests.post(url, data=body, headers=signed_headers(body, KEY), timeout=patience(5))
            took.append(time.monotonic() - t0)
            assert r.status_code == 200, r.text
            time.sleep(0.4)
        wait_for(lambda: len(drip.lifetimes) >= 40, timeout=4, what="the first 40 drippers to be closed")
    finally:
        drip.stop()
    print(f"\n40 drippers for {time.monotonic() - started:.1f} s: {len(drip.lifetimes)} closed after "
          f"{min(drip.lifetimes):.2f}–{max(drip.lifetimes):.2f} s; signed events took {max(took) * 1000:.0f} ms at most")
    assert max(took) < patience(1)
    assert min(drip.lifetimes) >= 1.9 and max(drip.lifetimes) < patience(2.0 + 1.5)   # the 2 s deadline, not 72 s
    wait_for(lambda: len(recording_bot.calls) == 10, what="the ten events")
    heads = [r for r in refusals(caplog) if "no complete request head within 2 s" in r.getMessage()]
    assert len(heads) >= 40 and all(r.exc_info is None for r in refusals(caplog))
    assert len(heads) == len(refusals(caplog))     # nothing else was refused


def test_when_too_many_connections_are_unfinished_the_oldest_makes_room_for_a_new_one(
        start_adapter, recording_bot, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(feishu_webhook, "MAX_PENDING", 8)
    adapter, url = webhook(start_adapter, recording_bot, webhook_timeout=30)
    port = adapter.webhook_address[1]
    silent = [raw_request(port, "POST /feishu/events HTTP/1.1\r\n") for _ in range(20)]
    body = opening("om_room")
    t0 = time.monotonic()
    assert requests.post(url, data=body, headers=signed_headers(body, KEY), timeout=patience(5)).status_code == 200
    assert time.monotonic() - t0 < patience(1)
    for s in silent[:13]:                           # 12 pushed out by the later 12, one by the signed event
        with contextlib.suppress(ConnectionResetError):  # closed at once, long before their 30 s
            assert read_all(s) == b""
    for s in silent[13:]:
        s.setblocking(False)
        with pytest.raises(BlockingIOError):        # the 7 newest are still open
            s.recv(1)
        s.close()
    evicted = [r for r in refusals(caplog) if "closed unfinished after" in r.getMessage()]
    assert len(evicted) == len(refusals(caplog)) == 13 and all(r.exc_info is None for r in evicted)


def encrypt_raw(plain: bytes, key: str) -> bytes:
    """Like feishu_fake.encrypt, for a payload that is not a dict json.dumps could make."""
    from Crypto.Cipher import AES
    pad = 16 - len(plain) % 16
    iv = os.urandom(16)
    cipher = AES.new(hashlib.sha256(key.encode()).digest(), AES.MODE_CBC, iv)
    return json.dumps({"encrypt": base64.b64encode(iv + cipher.encrypt(plain + bytes([pad]) * pad)).decode()}).encode()


def assert_answered_in_one_line(caplog, capsys, r, status: int, reason: str) -> None:
    assert r.status_code == status and reason in r.text, (r.status_code, r.text)
    wait_for(lambda: refusals(caplog), what="the refusal's log line")
    assert_one_line(caplog, reason)
    assert "Traceback" not in capsys.readouterr().err


def test_hostile_timestamps_and_signatures_get_one_answer_and_one_line(start_adapter, recording_bot, caplog, capsys):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, recording_bot)
    body = opening("om_hostile_ts")
    for ts in ("9" * 400, "²" * 10, "1e9", "-5", "12.5"):     # ² is a digit to str.isdigit, not to int()
        r = requests.post(url, data=body, headers=signed_headers(body, KEY, timestamp=ts), timeout=patience(5))
        assert_answered_in_one_line(caplog, capsys, r, 401, "is not a number of seconds")
    headers = {**signed_headers(body, KEY), "X-Lark-Signature": "ÿ" * 64}    # not ASCII: hmac cannot compare str
    r = requests.post(url, data=body, headers=headers, timeout=patience(5))
    assert_answered_in_one_line(caplog, capsys, r, 401, "bad signature")
    for length, status, reason in (("²", 411, "no Content-Length"), ("9" * 5000, 413, "is over 1048576")):
        answer = read_all(raw_request(int(url.split(":")[2].split("/")[0]),
                                      f"POST /feishu/events HTTP/1.1\r\nContent-Length: {length}\r\n\r\n"))
        assert answer.startswith(f"HTTP/1.0 {status}".encode()), answer[:100]
        assert_one_line(caplog, reason)
    assert "Traceback" not in capsys.readouterr().err
    time.sleep(0.3)
    assert recording_bot.calls == []


def test_a_200000_deep_json_body_or_payload_gets_one_answer_and_one_line(start_adapter, recording_bot, caplog, capsys):
    caplog.set_level(logging.INFO)
    _, url = webhook(start_adapter, recording_bot)
    deep = b"[" * 200_000 + b"]" * 200_000
    r = requests.post(url, data=deep, timeout=patience(5))
    assert_answered_in_one_line(caplog, capsys, r, 400, "body is nested too deep")
    inside = b'{"encrypt": "x", "extra": ' + deep + b"}"
    r = requests.post(url, data=inside, headers=signed_headers(inside, KEY), timeout=patience(5))
    assert_answered_in_one_line(caplog, capsys, r, 400, "body is nested too deep")
    for plain in (deep, b'{"schema": "2.0", "header": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001):
        body = encrypt_raw(plain, KEY)
        assert len(body) < 2**20
        r = requests.post(url, data=body, headers=signed_headers(body, KEY), timeout=patience(5))
        assert_answered_in_one_line(caplog, capsys, r, 400, "payload is nested too deep")
        r = requests.post(url, data=body, timeout=patience(5))          # unsigned: not a URL check either
        assert_answered_in_one_line(caplog, capsys, r, 401, "no signature")
    time.sleep(0.3)
    assert recording_bot.calls == []
