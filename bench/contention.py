#!/usr/bin/env python
"""Write contention: several bot processes writing to one database at the same moment.

`--writers` (default 8) processes each build their own `App` on the same database (one SQLite file, or
one PostgreSQL database in a throwaway cluster) and drive a project of their own as fast as they can
(closed loop, no think time unless `--think`): the next-up sends `接待` then `到访 姓名 手机` (or
`到访` directly), salespeople `送客`, owners `跟进 手机 内容`, anyone `轮排`. Every process does real
writes through `App.handle` (parser, handlers, unit of work, audit), so on SQLite they queue for the
one write lock. Printed per command: n, p50, p99 and max of the time inside `App.handle`, and how many
units of work were retried after the database was busy.

    .venv/bin/python bench/contention.py                       # SQLite, then PostgreSQL
    .venv/bin/python bench/contention.py --db sqlite --commands 300 --writers 8
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import shutil
import tempfile
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import machine, md_table, pct

from bot.bootstrap import TYPED_NAMES
from storage import pgcluster
from storage.uow import Units

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 9, 30, tzinfo=TZ)
NEXT = re.compile(r"下一位:(\S+)\s*$", re.M)
KINDS = ["/开班", "接待", "到访", "送客", "跟进", "轮排"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁林欣佳文博"


def config(url: str, writers: int, sales: int):
    from bot.config import Config
    projects = [{"name": f"楼盘{w + 1:02d}", "shift": {"start": "09:00", "end": "18:00"},
                 "managers": [f"经理{chr(0x7532 + w)}"],
                 "salespeople": [SURNAMES[w] + GIVEN[j] for j in range(sales)]} for w in range(writers)]
    return Config.model_validate({"timezone": "Asia/Shanghai", "database": url,
                                  "policy": {"preset": "real_estate"}, "projects": projects})


class Writer:
    """One project's commands, driven by the bot's replies (the next-up is read from `下一位:NAME`)."""

    def __init__(self, app, w: int, cfg, seed: int):
        self.app, self.w, self.rng = app, w, random.Random(seed * 1000 + w)
        p = cfg.projects[w]
        self.project, self.manager, self.sales = p.name, p.managers[0].name, [s.name for s in p.salespeople]
        self.busy: deque[str] = deque()
        self.owned: list[tuple[str, str]] = []          # (phone, owner)
        self.next_up: str | None = None
        self.n = 0
        self.start = time.perf_counter()

    def say(self, sender: str, text: str) -> tuple[str, float, list]:
        from handlers.messages import Incoming
        at = T0 + timedelta(seconds=time.perf_counter() - self.start)
        self.n += 1
        msg = Incoming("console", sender, text, at, project=self.project)
        t = time.perf_counter()
        outs = self.app.handle(msg)
        dt = time.perf_counter() - t
        for o in outs:
            found = NEXT.findall(o.text)
            if found and o.project == self.project:
                self.next_up = found[-1]
        return text.split()[0], dt, outs

    def steps(self):
        yield self.manager, "/开班 " + " ".join(self.sales)
        k = 0
        while True:
            k += 1
            rng = self.rng
            if self.busy and (self.next_up is None or len(self.busy) >= 3 or rng.random() < 0.5):
                yield self.busy.popleft(), "送客"
                continue
            me = self.next_up
            phone = f"13{self.w}{k:08d}"[:11]
            name = SURNAMES[(k * 7 + self.w) % len(SURNAMES)] + GIVEN[k % len(GIVEN)] + GIVEN[(k // 7) % len(GIVEN)]
            if rng.random() < 0.5:
                yield me, "接待"
            yield me, f"到访 {name} {phone}"
            self.busy.append(me)
            self.owned.append((phone, me))
            if rng.random() < 0.3:
                ph, owner = rng.choice(self.owned)
                yield owner, f"跟进 {ph} 电话回访，客户对三居室有意向"
            if rng.random() < 0.1:
                yield rng.choice(self.sales), "轮排"


def worker(url: str, w: int, args, barrier, results) -> None:
    from bot.app import App
    from bot.clock import SystemClock
    from bot.config import project_settings
    from storage import retry
    from storage.db import make_engine

    if args.busy_timeout_ms is not None:            # e.g. 60000: SQLite's own busy handler only (before the fix)
        retry.BUSY_TIMEOUT_MS = args.busy_timeout_ms
    cfg = config(url, args.writers, args.sales)
    app = App(Units(make_engine(url)), project_settings(cfg), SystemClock(), typed_names=TYPED_NAMES)
    wr = Writer(app, w, cfg, args.seed)
    wr.say(wr.manager, "帮助")                          # warm up (imports, statement caches) before the clock starts
    barrier.wait()
    wr.start = time.perf_counter()
    out, bad = [], 0
    for sender, text in wr.steps():
        kind, dt, outs = wr.say(sender, text)
        out.append((kind, dt))
        bad += any("出错" in o.text or "抱歉" in o.text for o in outs)
        if len(out) >= args.commands:
            break
        if args.think:
            time.sleep(wr.rng.uniform(0, args.think / 1000))
    results.put((w, out, bad, retry.STATS.lock_waits + retry.STATS.retries, retry.STATS.gave_up))


def run(url: str, label: str, args) -> dict:
    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    bootstrap(config(url, args.writers, args.sales), db_url=url, clock=FakeClock(T0 - timedelta(hours=1)))
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(args.writers), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, w, args, barrier, results)) for w in range(args.writers)]
    wall = time.perf_counter()
    for p in procs:
        p.start()
    got = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - wall
    lat: dict[str, list[float]] = defaultdict(list)
    for _w, out, _bad, _r, _g in got:
        for kind, dt in out:
            lat[kind].append(dt)
    return {"label": label, "lat": lat, "bad": sum(g[2] for g in got), "retries": sum(g[3] for g in got),
            "gave_up": sum(g[4] for g in got), "wall": wall}


def table(res: dict) -> str:
    rows = []
    every = [x for k in KINDS for x in res["lat"].get(k, [])]
    for k in [*KINDS, None]:
        xs = res["lat"].get(k, []) if k else every
        if xs:
            rows.append([k or "**all commands**", len(xs), f"{pct(xs, 50) * 1e3:.1f}", f"{pct(xs, 99) * 1e3:.1f}",
                         f"{max(xs) * 1e3:.1f}"])
    return (f"#### {res['label']}\n\n" + md_table(["command", "n", "p50 ms", "p99 ms", "max ms"], rows)
            + f"\n- {len(every)} commands in {res['wall']:.1f} s wall; lock tries that found it "
              f"taken (then paused and tried again): {res['retries']}, "
              f"given up: {res['gave_up']}; apologies: {res['bad']}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=8, help="processes writing at once (default 8)")
    ap.add_argument("--commands", type=int, default=200, help="commands per process (default 200)")
    ap.add_argument("--sales", type=int, default=6, help="salespeople per project (default 6)")
    ap.add_argument("--think", type=float, default=0, help="random pause up to this many ms between commands")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--busy-timeout-ms", type=int, default=None,
                    help="SQLite busy timeout per try (default storage.retry.BUSY_TIMEOUT_MS; 60000 = the old setting)")
    args = ap.parse_args()
    print(machine(), "\n")
    print(f"{args.writers} writer processes × {args.commands} commands, one project each\n")
    if args.db in ("sqlite", "both"):
        tmp = Path(tempfile.mkdtemp(prefix="reception-contention-"))
        try:
            print(table(run(f"sqlite:///{tmp / 'bot.db'}", "SQLite (one file, WAL)", args)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        with pgcluster.cluster() as server:
            if server is None:
                print("PostgreSQL binaries not found: skipped")
            else:
                print(table(run(pgcluster.create_database(server, "contention_"), "PostgreSQL (throwaway cluster)", args)))


if __name__ == "__main__":
    main()
