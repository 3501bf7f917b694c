#!/usr/bin/env python
"""The scheduled-work sweep (App.run_due) with a large customer register.

1,000,000 customers (default) are bulk-inserted straight into `customers` (one INSERT … SELECT per
project from a recursive CTE on SQLite / generate_series on PostgreSQL), active and owned, with
`due_at` spread over the next 30 days and a few hundred due now. Then:

- a sweep with `--due` customers due (App.run_due over all projects: reminders written to the
  outbox, due_at moved on), repeated `--reps` times (the due rows are re-armed in between), once
  with all of them due at the same instant and once with each due at its own instant;
- the idle sweep (nothing due), repeated `--idle-reps` times;
- the plan of every SELECT the sweep ran (captured from the engine while it ran, with its real
  parameters): EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL — an index, not a scan.

    .venv/bin/python bench/sweep.py
    .venv/bin/python bench/sweep.py --customers 200000 --db sqlite
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as time_
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import machine, md_table, pct, target_line
from sqlalchemy import delete, event, func, select, text, update

from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import Config
from storage import models as m
from storage import pgcluster
from storage.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 27)
T_SYNC = datetime.combine(DAY, datetime.min.time(), TZ) + timedelta(hours=10)   # day opens at 10:00
T_SWEEP = T_SYNC + timedelta(minutes=30)                                         # the sweep at 10:30
SALES = ["李四", "王五", "赵六", "钱七", "孙八"]


def config(args, url: str) -> Config:
    return Config.model_validate({
        "timezone": "Asia/Shanghai", "database": url, "policy": {"preset": "real_estate"},
        "projects": [{"name": f"楼盘{i + 1:03d}", "shift": {"start": "09:00", "end": "18:00"},
                      "managers": [f"张经理{i + 1}"], "salespeople": SALES} for i in range(args.projects)]})


def bulk_insert(engine, args) -> float:
    """args.customers rows spread evenly over the projects; the first rows of each project are due now."""
    postgres = engine.dialect.name == "postgresql"
    epoch = lambda t: int(t.timestamp())                                   # noqa: E731
    with engine.connect() as conn:
        pids = list(conn.execute(select(m.Project.id).order_by(m.Project.id)).scalars())
    per, extra = divmod(args.customers, len(pids))
    due_per, due_extra = divmod(args.due, len(pids))
    # due now: due_at 10:01–10:29 (after the opening sweep at 10:00, before the sweep at 10:30),
    # deadline tomorrow 23:59:59 → stage 1 (明天到期) reminder to the owner.
    p = {
        "now_lo": epoch(T_SYNC + timedelta(minutes=1)),
        "valid_now": epoch(datetime.combine(DAY + timedelta(days=1), time_(23, 59, 59), TZ)),
        "fut_lo": epoch(T_SWEEP + timedelta(hours=1)),
        "span": 30 * 86400 - 3600,
        "reg": epoch(T_SYNC - timedelta(days=6)),
        "null_per_mille": int(args.null_share * 1000),
    }
    if postgres:
        ts = "to_timestamp({}) AT TIME ZONE 'UTC'"
        seq = "generate_series(0, :n - 1) AS s(n)"
        cte = ""
        name = "'客户' || n"
        phone = "'13' || lpad(n::text, 9, '0')"
        owner = "(ARRAY['李四','王五','赵六','钱七','孙八'])[n % 5 + 1]"
        other = "'[]'::json"
    else:
        ts = "strftime('%Y-%m-%d %H:%M:%S', {}, 'unixepoch') || '.000000'"
        seq = "seq"
        cte = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < :n) "
        name = "'客户' || n"
        phone = "'13' || printf('%09d', n)"
        owner = ("CASE n % 5 WHEN 0 THEN '李四' WHEN 1 THEN '王五' WHEN 2 THEN '赵六' WHEN 3 THEN '钱七' "
                 "ELSE '孙八' END")
        other = "'[]'"
    fut = ":fut_lo + (n * 7919) % :span"
    due_at = (f"CASE WHEN n < :due THEN {ts.format(':now_lo + (n % 28) * 60')} "
              f"WHEN (n * 37) % 1000 < :null_per_mille THEN NULL ELSE {ts.format(fut)} END")
    valid = (f"CASE WHEN n < :due THEN {ts.format(':valid_now')} "
             f"ELSE {ts.format(fut + ' + 140000')} END")
    sql = (f"{cte}INSERT INTO customers (project_id, name, phone, owner, status, registered_by, "
           f"registered_at, last_activity_at, valid_until, note, other_names, due_at, due_stage) "
           f"SELECT :pid, {name}, {phone}, {owner}, 'active', {owner}, {ts.format(':reg')}, "
           f"{ts.format(':reg')}, "
           f"{valid}, '', {other}, {due_at}, 0 FROM {seq}")
    t = time.perf_counter()
    with engine.begin() as conn:
        for i, pid in enumerate(pids):
            n, due = per + (i < extra), due_per + (i < due_extra)
            conn.execute(text(sql), {**p, "pid": pid, "n": n, "due": due})
    with engine.connect() as conn:                    # planner statistics (autovacuum would do it on PG)
        conn.execution_options(isolation_level="AUTOCOMMIT")
        if postgres:
            conn.exec_driver_sql("VACUUM ANALYZE customers")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return time.perf_counter() - t


class Capture:
    """Every SQL statement (with parameters) the engine runs while `on`."""

    def __init__(self, engine):
        self.on, self.seen = False, {}
        self.txns = self.stmts = 0
        event.listen(engine, "before_cursor_execute", self._stmt)
        event.listen(engine, "begin", self._begin)

    def _stmt(self, conn, cursor, statement, params, context, executemany):
        self.stmts += 1
        if self.on and not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            self.seen.setdefault(statement, (params, 0))
            self.seen[statement] = (self.seen[statement][0], self.seen[statement][1] + 1)

    def _begin(self, conn):
        self.txns += 1


def due_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(m.Customer.id).where(
            m.Customer.due_at <= T_SWEEP, m.Customer.due_at > T_SYNC)).scalars())


def rearm(engine, ids: list[int], variant: str) -> None:
    """Re-arm the due rows (stage 0) and drop the reminders a previous sweep wrote.

    one:      all due at the same instant, 10:05 (reminders fall due at the policy's remind_time)
    distinct: each due at its own instant, one second apart from 10:05 (e.g. registered through the day)
    """
    with engine.begin() as conn:
        conn.execute(delete(m.Outbox).where(m.Outbox.kind == "reminder"))   # each rep writes them again
        if variant == "one":
            for chunk in range(0, len(ids), 500):
                conn.execute(update(m.Customer).where(m.Customer.id.in_(ids[chunk:chunk + 500])).values(
                    due_at=T_SYNC + timedelta(minutes=5), due_stage=0))
        else:
            for k, cid in enumerate(ids):
                conn.execute(update(m.Customer).where(m.Customer.id == cid).values(
                    due_at=T_SYNC + timedelta(minutes=5, seconds=k), due_stage=0))


def explain(engine, cap: Capture) -> tuple[str, bool]:
    postgres = engine.dialect.name == "postgresql"
    out, ok = [], True
    with engine.connect() as conn:
        for st, (params, count) in cap.seen.items():
            if not st.lstrip().upper().startswith(("SELECT", "UPDATE")) or isinstance(params, list):
                continue                # (an executemany's parameters are a list: not explained)
            one = " ".join(st.split())
            if postgres:
                plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + st, params)]
                scan = [ln for ln in plan if "Seq Scan on customers" in ln or "Seq Scan on receptions" in ln]
            else:
                plan = [f"{'  ' * 0}{r[3]}" for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + st, params)]
                scan = [ln for ln in plan if ln.startswith(("SCAN customers", "SCAN receptions"))]
            if "customers" in st or "receptions" in st:
                ok = ok and not scan
            out.append(f"-- ran {count}× per sweep; parameters {params!r}\n{one}\n"
                       + "\n".join("   " + ln for ln in plan))
        conn.rollback()
    return "\n\n".join(out), ok


def run(url: str, label: str, args) -> dict:
    app = bootstrap(config(args, url), db_url=url, clock=FakeClock(T_SYNC))
    engine = app.engine
    app.run_due(T_SYNC)                              # 10:00: the daily opening of every project
    ins = bulk_insert(engine, args)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(m.Customer)).scalar_one()
        nulls = conn.execute(select(func.count()).select_from(m.Customer)
                             .where(m.Customer.due_at.is_(None))).scalar_one()
    ids = due_ids(engine)
    cap = Capture(engine)
    sweeps = {}
    for variant in ("one", "distinct"):
        times, sent, txns, cpu = [], [], [], []
        for rep in range(args.reps):
            rearm(engine, ids, variant)
            cap.on, cap.txns, cap.stmts = variant == "one" and rep == 0, 0, 0
            t, c = time.perf_counter(), time.process_time()
            out = app.run_due(T_SWEEP)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)     # this process's CPU: less at the mercy of a loaded machine
            cap.on = False
            sent.append(len(out))
            txns.append((cap.txns, cap.stmts))
        sweeps[variant] = (times, sent, txns, cpu)
    idle = idle_sweeps(app, args.idle_reps)
    # one project's probe alone (first_due) — the per-command cost App.handle pays before every command
    from bot.scheduled import first_due
    probe = []
    with UnitOfWork(engine) as uow:
        p = uow.session.execute(select(m.Project.id, m.Project.next_open_at, m.Project.next_summary_at)
                                .order_by(m.Project.id)).first()
        for _ in range(args.idle_reps * 5):
            t = time.perf_counter()
            first_due(uow, *p[:3])
            probe.append(time.perf_counter() - t)
    plans, ok = explain(engine, cap)
    engine.dispose()
    return {"label": label, "insert": ins, "total": total, "nulls": nulls, "due": len(ids), "sweeps": sweeps,
            "idle": idle, "probe": probe, "plans": plans, "ok": ok}


def idle_sweeps(app, reps: int) -> list[float]:
    """`reps` sweeps with nothing due, each timed (one asserts nothing was sent)."""
    idle = []
    for _ in range(reps):
        t = time.perf_counter()
        out = app.run_due(T_SWEEP)
        idle.append(time.perf_counter() - t)
        assert not out, out
    return idle


def run_idle(url: str, args) -> list[float]:
    """The idle sweep at `--idle-projects` projects (the register spread over them, nothing due)."""
    many = argparse.Namespace(**{**vars(args), "projects": args.idle_projects, "due": 0})
    app = bootstrap(config(many, url), db_url=url, clock=FakeClock(T_SYNC))
    app.run_due(T_SYNC)                              # 10:00: the daily opening of every project
    bulk_insert(app.engine, many)
    app.run_due(T_SWEEP)                             # (warm: statement caches, connections)
    idle = idle_sweeps(app, args.idle_reps)
    app.engine.dispose()
    return idle


def targets(r: dict, idle: list[float], args, database: str) -> str:
    """The `make bench` summary lines (issue 23): the due sweep (all due at one instant, median) and the
    idle sweep at `--idle-projects` projects (median)."""
    due = target_line(f"sweep-{r['due']}-due", database, pct(r["sweeps"]["one"][0], 50) * 1e3,
                      50 if database == "sqlite" else 90, " ms")
    return due + "\n" + target_line(f"idle-{args.idle_projects}-projects", database, pct(idle, 50) * 1e3, 10, " ms")


def idle_line(idle: list[float], args) -> str:
    return (f"- idle sweep at {args.idle_projects} projects (the register spread over them, nothing due): "
            f"p50 {pct(idle, 50) * 1e3:.1f} ms, max {max(idle) * 1e3:.1f} ms over {len(idle)} runs")


def report(r: dict, args) -> str:
    per_project = r["total"] // args.projects
    rows = []
    variants = (("one", "due at one instant (remind_time)"), ("distinct", "due at distinct instants"))
    for variant, what in variants:
        times, sent, txns, cpu = r["sweeps"][variant]
        rows.append([f"sweep, {r['due']} customers {what}", len(times), f"{pct(times, 50) * 1e3:.1f}",
                     f"{max(times) * 1e3:.1f}",
                     f"{sent[0]} reminders, {txns[0][0]} txns, {txns[0][1]} SQL stmts, "
                     f"CPU p50 {pct(cpu, 50) * 1e3:.1f} ms"])
    rows += [
        ["idle sweep (nothing due)", len(r["idle"]), f"{pct(r['idle'], 50) * 1e3:.1f}",
         f"{max(r['idle']) * 1e3:.1f}", f"{args.projects} projects × 1 probe txn"],
        ["first_due() probe, one project", len(r["probe"]), f"{pct(r['probe'], 50) * 1e3:.2f}",
         f"{max(r['probe']) * 1e3:.2f}", "4 SELECTs, inside an open txn"],
    ]
    return "\n".join([
        f"### {r['label']}", "",
        f"- register: {r['total']:,} customers over {args.projects} projects (~{per_project:,} each), "
        f"{r['nulls']:,} with due_at NULL; bulk insert + ANALYZE {r['insert']:.1f} s",
        "",
        md_table(["run_due", "runs", "p50 ms", "max ms", "work"], rows, "lrrrl"),
        "",
        "Query plans of every SELECT and UPDATE the sweep ran (captured during the first due sweep):",
        "", "```", r["plans"], "```", "",
        "- verdict: " + ("**index used for every customers/receptions query — no table scan**" if r["ok"]
                         else "**TABLE SCAN FOUND** (see plans)"),
    ])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--projects", type=int, default=10)
    ap.add_argument("--due", type=int, default=200, help="customers due at the sweep")
    ap.add_argument("--null-share", type=float, default=0.0,
                    help="share of the other customers with due_at NULL (closed / lapsed, nothing scheduled)")
    ap.add_argument("--reps", type=int, default=3, help="due sweeps (re-armed in between)")
    ap.add_argument("--idle-reps", type=int, default=20)
    ap.add_argument("--idle-projects", type=int, default=100, help="projects of the idle-sweep target")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-fsync", choices=["on", "off"], default="on")
    args = ap.parse_args()
    print(f"# Sweep with a large register — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}\n")
    print(f"- machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    print(f"- scale: {args.customers:,} customers, {args.projects} projects, {args.due} due at the sweep "
          f"({T_SWEEP:%H:%M}), due_at of the others spread over the next 30 days"
          + (f", {args.null_share:.0%} of them NULL" if args.null_share else "") + "\n")
    sys.stdout.flush()
    lines: list[str] = []
    if args.db in ("sqlite", "both"):
        tmp = Path(tempfile.mkdtemp(prefix="reception-bench-"))
        try:
            r = run(f"sqlite:///{tmp}/sweep.db", "SQLite (file, WAL)", args)
            idle = run_idle(f"sqlite:///{tmp}/idle.db", args)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(report(r, args) + "\n")
        print(idle_line(idle, args) + "\n")
        lines.append(targets(r, idle, args, "sqlite"))
        sys.stdout.flush()
    if args.db in ("postgresql", "both"):
        with pgcluster.cluster(fsync=args.pg_fsync == "on") as server:
            if server is None:
                print("### PostgreSQL\n\nskipped: PostgreSQL binaries (initdb, pg_ctl) not found\n")
            else:
                url = pgcluster.create_database(server, "bench_")
                r = run(url, f"PostgreSQL (throwaway cluster, fsync={args.pg_fsync})", args)
                idle = run_idle(pgcluster.create_database(server, "bench_"), args)
                print(report(r, args) + "\n")
                print(idle_line(idle, args) + "\n")
                lines.append(targets(r, idle, args, "postgresql"))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
