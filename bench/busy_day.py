#!/usr/bin/env python
"""A synthetic busy day replayed through App.handle (real parser, handlers, unit of work, databases).

For every project: the manager sends /开班 at 08:50, every salesperson 签到; then, from 09:00 to
17:30, each walk-in is reported by whoever is next-up (`到访 姓名 手机`, the next-up is read from
the last `下一位:NAME` line of the bot's replies), salespeople 送客 when they are done, and some
`跟进`, `轮排` and `成交` are mixed in. Projects are interleaved in time order like a real day.

Beside every command, on the same engine and database, a baseline transaction runs:
BEGIN (IMMEDIATE on SQLite) · SELECT one row · UPDATE it · INSERT one row · COMMIT.
The target is: command p50 ≤ 3 × baseline p50 (printed as `TARGET command/bare-txn [db] …` lines).
After each command its replies are marked sent, as an adapter does (timed apart: `mark_sent`).

`--paced` replays the day with real gaps: the bench sleeps `--gap-ms` between messages (caches and pages
cool down). A sender's identity is remembered under the project's roster_version, however long ago they
spoke (bot/identity.py), so the first message of each sender is the only lookup, as in production.

    .venv/bin/python bench/busy_day.py                       # default scale, SQLite then PostgreSQL
    .venv/bin/python bench/busy_day.py --paced --gap-ms 20
    .venv/bin/python bench/busy_day.py --projects 50 --sales 10 --receptions 200
    .venv/bin/python bench/busy_day.py --db sqlite --profile 25
"""
from __future__ import annotations

import argparse
import cProfile
import heapq
import io
import os
import pstats
import random
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict, deque
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import machine, md_table, pct, target_line
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select, update

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import Config
from handlers.messages import Incoming
from rules.queue import Day
from storage import models as m
from storage import pgcluster
from storage.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 27)
TARGET = 3.0

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
            "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁林欣佳文博"
         "瑞思雨晨阳轩梓涵诺然航嘉怡若曦慧婷颖琳倩雪梅丹蕾蓉菲晶")
PREFIXES = [str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190))]
NEXT = re.compile(r"下一位:(\S+)\s*$")
KINDS = ["/开班", "签到", "到访", "送客", "跟进", "轮排", "成交"]


# ---- synthetic people ---------------------------------------------------------------------------
class Names:
    """Unique, valid Chinese names (surname + one or two given characters), never placeholders."""

    def __init__(self, rng: random.Random):
        self.rng, self.seen = rng, set()

    def __next__(self) -> str:
        while True:
            given = self.rng.choice((1, 2, 2))
            n = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(given))
            if n not in self.seen:
                self.seen.add(n)
                return n


class Phones:
    """Unique valid mobiles: 13x / 15x / 18x + 8 digits (a bijective scramble of a counter)."""

    def __init__(self):
        self.i = 0

    def __next__(self) -> str:
        i, self.i = self.i, self.i + 1
        return PREFIXES[i % len(PREFIXES)] + f"{((i // len(PREFIXES)) * 7919 + 1234567) % 10**8:08d}"


class _Slot:
    """The times of the messages about one walk-in: a few seconds apart."""

    def __init__(self, t0: datetime, step: timedelta):
        self.t, self.step = t0, step

    def next(self) -> datetime:
        self.t += self.step
        return self.t


# ---- one project's day, driven by the bot's replies ------------------------------------------------
class ProjectDay:
    def __init__(self, idx: int, name: str, manager: str, sales: list[str], args, rng: random.Random,
                 names: Names, phones: Phones):
        self.idx, self.name, self.manager, self.sales = idx, name, manager, sales
        self.args, self.rng, self.names, self.phones = args, rng, names, phones
        self.next_up: str | None = None
        self.reply: tuple[str, str] = ("", "")          # (tag, text) of the last command's main reply

    def events(self):
        """Yields (at, sender, text, kind); the driver sets self.reply / self.next_up before resuming."""
        a, rng = self.args, self.rng
        open_at = datetime.combine(DAY, datetime.min.time(), TZ) + timedelta(hours=8, minutes=50)
        open_at += timedelta(seconds=self.idx * 240 / max(1, a.projects))
        yield open_at, self.manager, "/开班", "/开班"
        for j, s in enumerate(self.sales):
            yield open_at + timedelta(seconds=300 + j), s, "签到", "签到"
        start = datetime.combine(DAY, datetime.min.time(), TZ) + timedelta(hours=9)
        spacing = 8.5 * 3600 / a.receptions              # walk-ins spread over 09:00–17:30
        jitter = self.idx * spacing / max(1, a.projects)
        busy: deque[str] = deque()                        # members in a reception, oldest first
        owned: list[list[str]] = []                       # [name, phone, owner] of active customers
        for r in range(a.receptions):
            slot = _Slot(start + timedelta(seconds=r * spacing + jitter), timedelta(seconds=spacing / 8))
            at = slot.next
            # salespeople finish receptions: always when nobody is free or too many are busy, else sometimes
            while busy and (self.next_up is None or len(busy) >= a.max_busy or rng.random() < 0.5):
                yield at(), busy.popleft(), "送客", "送客"
            if self.next_up is None:
                raise RuntimeError(f"{self.name}: nobody is next-up and nobody is busy")
            me, cname, phone = self.next_up, next(self.names), next(self.phones)
            yield at(), me, f"到访 {cname} {phone}", "到访"
            if self.reply[0] == "ok":
                busy.append(me)
                owned.append([cname, phone, me])
            if owned and rng.random() < a.follow_rate:
                c = rng.choice(owned)
                yield at(), c[2], f"跟进 {c[1]} 电话回访,客户对三居室有意向", "跟进"
            if rng.random() < a.board_rate:
                yield at(), rng.choice(self.sales), "轮排", "轮排"
            if len(owned) > 1 and rng.random() < a.deal_rate:
                c = owned.pop(rng.randrange(len(owned) - 1))
                yield at(), c[2], f"成交 {c[0]} {c[1]}", "成交"
        t_end = start + timedelta(hours=8, minutes=45)
        while busy:
            t_end += timedelta(seconds=1)
            yield t_end, busy.popleft(), "送客", "送客"


# ---- the run ---------------------------------------------------------------------------------------
def build_config(args, url: str, rng: random.Random, names: Names) -> tuple[Config, list[tuple]]:
    projects, plan = [], []
    for i in range(args.projects):
        pname = f"楼盘{i + 1:03d}"
        manager = next(names) + "经理"
        sales = [next(names) for _ in range(args.sales)]
        projects.append({
            "name": pname, "shift": {"start": "09:00", "end": "18:00"},
            "managers": [{"name": manager, "feishu": f"ou_p{i}_m"}],
            "salespeople": [{"name": s, "feishu": f"ou_p{i}_s{j}"} for j, s in enumerate(sales)],
            "chats": {"feishu": [f"oc_p{i}"]},
        })
        ids = {manager: f"ou_p{i}_m", **{s: f"ou_p{i}_s{j}" for j, s in enumerate(sales)}}
        plan.append((pname, manager, sales, ids, f"oc_p{i}"))
    cfg = Config.model_validate({"timezone": "Asia/Shanghai", "database": url,
                                 "policy": {"preset": "real_estate"}, "projects": projects})
    return cfg, plan


SCRATCH = MetaData()
BENCH_ROWS = Table("bench_scratch", SCRATCH, Column("id", Integer, primary_key=True), Column("n", Integer))
BENCH_LOG = Table("bench_log", SCRATCH, Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("k", Integer), Column("note", String(200)))


def baseline_setup(engine) -> None:
    SCRATCH.drop_all(engine)
    SCRATCH.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(BENCH_ROWS), [{"id": i, "n": 0} for i in range(1, 1001)])


def baseline_op(engine, k: int) -> float:
    """One bare transaction: SELECT one row, UPDATE it, INSERT one row (same engine, same database)."""
    t = time.perf_counter()
    with engine.begin() as conn:               # SQLite: the engine's "begin" hook issues BEGIN IMMEDIATE
        n = conn.execute(select(BENCH_ROWS.c.n).where(BENCH_ROWS.c.id == k)).scalar_one()
        conn.execute(update(BENCH_ROWS).where(BENCH_ROWS.c.id == k).values(n=n + 1))
        conn.execute(insert(BENCH_LOG).values(k=k, note="到访 登记有效 下一位"))
    return time.perf_counter() - t


class Split:
    """Time spent identifying the sender, in the catch-up probe before a command (only when the next due
    time kept in memory has come), in the command's own transaction, and marking its replies sent
    (wrapped on this instance only)."""

    PARTS = ("resolve", "probe", "command", "mark_sent")

    def __init__(self, app):
        self.t = dict.fromkeys(self.PARTS, 0.0)
        self.n = dict.fromkeys(self.PARTS, 0)
        for part, owner, name in (("resolve", app, "_resolve"), ("probe", app.scheduled, "run_due"),
                                  ("command", app, "_command"), ("mark_sent", app, "mark_sent")):
            setattr(owner, name, self._wrap(part, getattr(owner, name)))

    def _wrap(self, name, fn):
        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.t[name] += time.perf_counter() - t
                self.n[name] += 1
        return timed


class Counter:
    """SQL statements and transactions per command, from engine events."""

    def __init__(self, engine):
        self.stmts = self.txns = 0
        event.listen(engine, "before_cursor_execute", self._stmt)
        event.listen(engine, "begin", self._begin)

    def _stmt(self, conn, cursor, statement, *a):
        if not statement.startswith("BEGIN"):
            self.stmts += 1

    def _begin(self, conn):
        self.txns += 1


def resync_next(app, pname: str) -> str | None:
    with UnitOfWork(app.engine) as uow:
        row = uow.session.scalars(select(m.Project).where(m.Project.name == pname)).one()
        return Day.from_dict(row.state).next_up()


def run_day(url: str, label: str, args) -> dict:
    rng = random.Random(args.seed)
    names, phones = Names(rng), Phones()
    cfg, plan = build_config(args, url, rng, names)
    t_setup = time.perf_counter()
    app = bootstrap(cfg, db_url=url, clock=FakeClock(datetime.combine(DAY, datetime.min.time(), TZ)
                                                     + timedelta(hours=8)))
    engine = app.engine
    baseline_setup(engine)
    setup_s = time.perf_counter() - t_setup
    counter = Counter(engine)
    split = Split(app)
    paced = args.paced
    sims = [ProjectDay(i, pname, mgr, sales, args, rng, names, phones)
            for i, (pname, mgr, sales, _ids, _chat) in enumerate(plan)]
    gens = [s.events() for s in sims]
    heap = []
    for i, g in enumerate(gens):
        ev = next(g, None)
        if ev:
            heapq.heappush(heap, (ev[0], i, ev))
    lat: dict[str, list[float]] = defaultdict(list)
    stmts: dict[str, int] = defaultdict(int)
    txns: dict[str, int] = defaultdict(int)
    base: list[float] = []
    order: list[float] = []                              # every command's latency, in time order
    with_mark: list[float] = []                          # … plus marking its replies sent
    problems: list[str] = []
    prof = cProfile.Profile() if args.profile else None
    seq = 0
    wall = time.perf_counter()
    while heap:
        at, i, (_, sender, body, kind) = heapq.heappop(heap)
        sim = sims[i]
        pname, _mgr, _sales, ids, chat = plan[i]
        seq += 1
        ev_id = f"bench:{seq}"
        if args.platform == "feishu":
            msg = Incoming("feishu", ids[sender], body, at, chat_id=chat, event_id=ev_id)
        else:
            msg = Incoming("console", sender, body, at, project=pname, event_id=ev_id)
        if paced:
            time.sleep(args.gap_ms / 1000)
        s0, x0 = counter.stmts, counter.txns
        if prof:
            prof.enable()
        t = time.perf_counter()
        out = app.handle(msg)
        dt = time.perf_counter() - t
        stmts[kind] += counter.stmts - s0
        txns[kind] += counter.txns - x0
        t = time.perf_counter()
        app.mark_sent([o.key for o in out], at)         # as the adapter does (its own transaction)
        with_mark.append(dt + time.perf_counter() - t)
        if prof:
            prof.disable()
        lat[kind].append(dt)
        order.append(dt)
        base.append(baseline_op(engine, seq % 1000 + 1))
        main = next((o for o in out if o.key.startswith(ev_id + ":")
                     and not o.key.rsplit(":", 1)[1].startswith("x")), None)
        tag = main.key.rsplit(":", 1)[1] if main else "none"
        reply = main.text if main else ""
        sim.reply = (tag, reply)
        if tag != "ok":
            problems.append(f"{pname} {sender}: {body} → [{tag}] {reply[:120]}")
            if len(problems) > args.max_problems:
                raise SystemExit("too many refused commands:\n" + "\n".join(problems[-10:]))
            sim.next_up = resync_next(app, pname)
        else:
            mt = NEXT.search(reply)
            if mt:
                sim.next_up = None if mt.group(1) == "无" else mt.group(1)
        ev = next(gens[i], None)
        if ev:
            heapq.heappush(heap, (ev[0], i, ev))
    wall = time.perf_counter() - wall
    with UnitOfWork(engine) as uow:
        counts = {t.__tablename__: uow.session.scalar(select(func.count()).select_from(t))
                  for t in (m.Customer, m.Reception, m.Deal, m.Audit, m.ProcessedEvent)}
    metrics_text = day_metrics(app, at) if args.metrics else None
    profile_text = None
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.profile)
        profile_text = buf.getvalue()
    engine.dispose()
    return {"label": label, "lat": lat, "split": split.t, "split_n": split.n, "order": order, "with_mark": with_mark,
            "stmts": stmts, "txns": txns,
            "base": base, "problems": problems,
            "wall": wall, "setup": setup_s, "counts": counts, "profile": profile_text, "metrics": metrics_text}


def day_metrics(app, end: datetime) -> str:
    """/metrics an hour after the last command, as Prometheus would scrape it: the sweep has run the day's
    scheduled work (the 日报 at shift end) and a platform delivered every message."""
    from prometheus_client import generate_latest

    from bot.health import Health
    end += timedelta(hours=1)
    app.run_due(end)
    app.mark_sent_until(end)
    return generate_latest(Health(app.engine, FakeClock(end)).registry()).decode()


def report(r: dict) -> tuple[str, float]:
    lat, base = r["lat"], r["base"]
    b50, b99 = pct(base, 50) * 1e3, pct(base, 99) * 1e3
    rows = []
    for kind in KINDS:
        v = lat.get(kind)
        if not v:
            continue
        p50, p99 = pct(v, 50) * 1e3, pct(v, 99) * 1e3
        rows.append([kind, len(v), f"{p50:.2f}", f"{p99:.2f}", f"{p50 / b50:.1f}×",
                     f"{r['stmts'][kind] / len(v):.1f}", f"{r['txns'][kind] / len(v):.1f}"])
    allv = [x for v in lat.values() for x in v]
    n_all = len(allv)
    a50, a99 = pct(allv, 50) * 1e3, pct(allv, 99) * 1e3
    ratio = a50 / b50
    rows.append(["**all commands**", n_all, f"{a50:.2f}", f"{a99:.2f}", f"**{ratio:.1f}×**",
                 f"{sum(r['stmts'].values()) / n_all:.1f}", f"{sum(r['txns'].values()) / n_all:.1f}"])
    rows.append(["baseline txn (SELECT+UPDATE+INSERT)", len(base), f"{b50:.2f}", f"{b99:.2f}", "1.0×",
                 "3", "1"])
    handle_s, base_s = sum(allv), sum(base)
    q = max(1, len(r["order"]) // 4)
    first, last = r["order"][:q], r["order"][-q:]
    sp, spn = r["split"], r["split_n"]
    split_txt = ", ".join(f"{k} {v / n_all * 1e3:.2f}" for k, v in sp.items())
    other = (handle_s - sum(v for k, v in sp.items() if k != "mark_sent")) / n_all * 1e3
    m50 = pct(r["with_mark"], 50) * 1e3
    lines = [f"### {r['label']}", "",
             md_table(["command", "n", "p50 ms", "p99 ms", "ratio p50/baseline p50", "SQL stmts/cmd",
                       "txns/cmd"], rows, "lrrrrrr"), "",
             f"- throughput: **{n_all / handle_s:,.0f} commands/s** (time inside App.handle, one process); "
             f"baseline {len(base) / base_s:,.0f} ops/s; wall {r['wall']:.1f} s for commands + baseline "
             f"(setup/migrate {r['setup']:.1f} s)",
             f"- overall command p50 / baseline p50 = **{ratio:.1f}×** → target ≤ {TARGET:.0f}×: "
             + ("**MET**" if ratio <= TARGET else "**NOT MET**"),
             f"- where the time goes (mean ms per command): {split_txt}, parse/other {other:.2f} "
             f"(resolve = sender/chat lookup, {spn['resolve']} calls; probe = the catch-up before a command, "
             f"run only when the next due time kept in memory has come: {spn['probe']} of {n_all} commands; "
             "command = the command's own txn; mark_sent = marking its replies sent, its own txn, outside "
             "App.handle)",
             f"- command plus its mark_sent p50 {m50:.2f} ms = {m50 / b50:.1f}× baseline",
             f"- p50 in the first quarter of the day {pct(first, 50) * 1e3:.2f} ms, "
             f"last quarter {pct(last, 50) * 1e3:.2f} ms (growth with the day's data)",
             "- rows at the end: " + ", ".join(f"{k} {v:,}" for k, v in r["counts"].items()),
             f"- refused/failed commands: {len(r['problems'])}"]
    lines += [f"  - {p}" for p in r["problems"][:10]]
    return "\n".join(lines), ratio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=50)
    ap.add_argument("--sales", type=int, default=10, help="salespeople per project")
    ap.add_argument("--receptions", type=int, default=20, help="walk-ins per project (the full day: 200)")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--platform", choices=["feishu", "console"], default="feishu",
                    help="feishu: sender by platform id, project by chat binding, event ids "
                         "(production path); console: sender by name and project given (replay path)")
    ap.add_argument("--follow-rate", type=float, default=0.3)
    ap.add_argument("--board-rate", type=float, default=0.1)
    ap.add_argument("--deal-rate", type=float, default=0.03)
    ap.add_argument("--max-busy", type=int, default=3, help="at most this many salespeople busy per project")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--paced", action="store_true",
                    help="real gaps: a sleep between messages")
    ap.add_argument("--gap-ms", type=float, default=20.0, help="--paced: real sleep between messages (ms)")
    ap.add_argument("--pg-fsync", choices=["on", "off"], default="on")
    ap.add_argument("--max-problems", type=int, default=50)
    ap.add_argument("--metrics", action="store_true", help="print /metrics at the end of each day")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="print the top N functions (cProfile)")
    args = ap.parse_args()
    if args.sales < args.max_busy + 1:
        ap.error("--sales must exceed --max-busy")

    print(f"# Busy day — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print()
    print(f"- machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    print(f"- scale: {args.projects} projects × {args.sales} salespeople × {args.receptions} "
          "receptions/project "
          f"= {args.projects * args.receptions:,} receptions; platform path: {args.platform}; "
          f"follow-up {args.follow_rate:.0%}, 轮排 {args.board_rate:.0%}, 成交 {args.deal_rate:.0%} "
          "per reception; "
          f"seed {args.seed}" + (f"; paced, {args.gap_ms:g} ms between messages" if args.paced else ""))
    print()
    sys.stdout.flush()
    summary = []
    if args.db in ("sqlite", "both"):
        tmp = Path(tempfile.mkdtemp(prefix="reception-bench-"))
        try:
            r = run_day(f"sqlite:///{tmp}/busy_day.db", "SQLite (file, WAL, BEGIN IMMEDIATE)", args)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        text_, ratio = report(r)
        print(text_ + "\n")
        if r["profile"]:
            print("```\n" + r["profile"] + "```\n")
        if r["metrics"]:
            print("/metrics at the end of the day:\n\n```\n" + r["metrics"] + "```\n")
        summary.append(("SQLite", r, ratio))
        sys.stdout.flush()
    if args.db in ("postgresql", "both"):
        with pgcluster.cluster(fsync=args.pg_fsync == "on") as server:
            if server is None:
                print("### PostgreSQL\n\nskipped: PostgreSQL binaries (initdb, pg_ctl) not found\n")
            else:
                label = f"PostgreSQL (throwaway cluster, fsync={args.pg_fsync})"
                r = run_day(pgcluster.create_database(server, "bench_"), label, args)
                text_, ratio = report(r)
                print(text_ + "\n")
                if r["profile"]:
                    print("```\n" + r["profile"] + "```\n")
                summary.append(("PostgreSQL", r, ratio))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes share the 2 cores)\n")
    if summary:
        rows = []
        for db, r, ratio in summary:
            allv = [x for v in r["lat"].values() for x in v]
            rows.append([db, len(allv), f"{pct(allv, 50) * 1e3:.2f}", f"{pct(r['base'], 50) * 1e3:.2f}",
                         f"{ratio:.1f}×", "met" if ratio <= TARGET else "NOT met",
                         f"{sum(r['stmts'].values()) / len(allv):.1f}", f"{sum(r['txns'].values()) / len(allv):.2f}",
                         f"{len(allv) / sum(allv):,.0f}"])
        print("### Summary\n")
        print(md_table(["database", "commands", "command p50 ms", "baseline p50 ms", "ratio",
                        f"≤ {TARGET:.0f}× target", "stmts/cmd", "txns/cmd", "commands/s"], rows, "lrrrrlrrr"))
        print()
        for db, _r, ratio in summary:
            print(target_line("command/bare-txn", db.lower(), ratio, TARGET, "×"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
