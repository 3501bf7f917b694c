"""`--db sqlite://` (one in-memory database, one shared connection) used from several threads at once,
as `run` does with a platform: the SDK's thread stores a delivery (`App.accept`) while the worker
thread runs a command (`App.handle`). Transactions on that connection take turns (storage/db.py)."""
from __future__ import annotations

import threading

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from rules import texts as T
from tests.conftest import at, fixed

P = "阳光花园"
ROUNDS = 60


def test_accept_and_handle_from_two_threads_on_in_memory_sqlite(config_file):
    app = bootstrap(config_file(), db_url="sqlite://", clock=fixed())
    app.handle(Incoming("console", "张经理", "/开班 李四 王五", at("2026-12-02 09:00"), project=P))
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(work) -> None:
        start.wait()
        try:
            for i in range(ROUNDS):
                work(i)
        except BaseException as e:          # noqa: BLE001 — reported below, with the thread's work
            errors.append(e)

    def sdk(i: int) -> None:                # Feishu's SDK thread: the delivery is stored before the ack
        msg = Incoming("feishu", "ou_li", "轮排", at("2026-12-02 09:30"), project=P, event_id=f"feishu:ev{i}")
        assert app.accept(msg)
        assert len(app.pending()) == i + 1  # a read-only unit of work takes its turn too

    def worker(i: int) -> None:             # the worker thread: one command after another
        [out] = app.handle(Incoming("console", "李四", "轮排", at("2026-12-02 09:30"), project=P))
        assert "下一位" in out.text and T.APOLOGY not in out.text, out.text

    threads = [threading.Thread(target=run, args=(w,)) for w in (sdk, worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert errors == []
    assert len(app.pending()) == ROUNDS                 # every delivery stored, none lost
