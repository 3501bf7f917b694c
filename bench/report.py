"""Report query and board latency: the figures for 50 salespeople × 1 year (~200,000 receptions)
on SQLite and PostgreSQL, and how long a command takes to reach the live board's event stream.

    .venv/bin/python bench/report.py [--sales 50] [--days 365] [--per-day 548] [--db sqlite|postgresql|both]

History is generated in bulk (tests/report_data.py: receptions of every category, customers,
split deals, change-log rows with make-ups), then ANALYZEd (PostgreSQL: VACUUM ANALYZE); the
report is `handlers.reports.build` (the queries in storage/reports.py), timed cold once and warm
5 times. The board latency: a bot (App) and its
pages (uvicorn in a thread) on the same database; a salesperson toggles 暂离/回来 through App.handle
and we time from the command's return to the SSE event that shows it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, md_table, pct, target_line  # noqa: E402

from storage import pgcluster  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.report_data import TZ, generate  # noqa: E402

FIRST = date(2025, 11, 1)


def bench_report(url: str, sales: int, days: int, per_day: int) -> dict:
    from handlers import reports
    engine = make_engine(url)
    migrate(engine)
    names = [f"销售{i:02d}" for i in range(sales)]
    t0 = time.perf_counter()
    pid = generate(engine, "年度项目", FIRST, days, names, per_day)
    gen = time.perf_counter() - t0
    # a bulk load leaves no statistics (and on PostgreSQL no visibility map for index-only scans);
    # a running database has them from autovacuum / the ANALYZE below
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
    with UnitOfWork(engine, readonly=True) as uow:
        n = uow.session.execute(__import__("sqlalchemy").text(
            "SELECT count(*) FROM receptions WHERE project_id = :p"), {"p": pid}).scalar()
    end = FIRST.fromordinal(FIRST.toordinal() + days - 1)
    now = datetime.combine(end, datetime.min.time(), tzinfo=TZ)
    out = {"receptions": n, "generate_s": gen}
    for label, span in (("year", (FIRST, end)), ("month", (end.replace(day=1), end)),
                        ("week", (end.fromordinal(end.toordinal() - 6), end))):
        times = []
        for _ in range(6):
            with UnitOfWork(engine, readonly=True) as uow:
                t = time.perf_counter()
                rep = reports.build(uow.report_figures, pid, "年度项目", TZ, span, now)
                times.append(time.perf_counter() - t)
        out[label] = {"cold_ms": times[0] * 1000, "warm_ms": statistics.median(times[1:]) * 1000,
                      "rows": len(rep.rows)}
    engine.dispose()
    return out


def bench_board(url: str, samples: int) -> dict:
    from bot.adapters.web import make_web, serve_in_thread
    from bot.bootstrap import bootstrap
    from bot.clock import SystemClock
    from handlers.messages import Incoming
    port = pgcluster.free_port()
    cfg = Path(tempfile.mkdtemp()) / "config.yaml"
    cfg.write_text(f"""
web: {{port: {port}}}
projects:
  - name: 阳光花园
    shift: {{start: "00:00", end: "23:59"}}
    managers: [张经理]
    salespeople: [李四, 王五, 赵六]
""", encoding="utf-8")
    app = bootstrap(cfg, db_url=url, clock=SystemClock())

    def say(who, text):
        return app.handle(Incoming("console", who, text, app.clock.now(), project="阳光花园"))

    say("张经理", "/开班 李四 王五 赵六")
    token = say("张经理", "/看板")[0].text.split("/board/")[1].split()[0]
    server = serve_in_thread(make_web(app.engine, app.projects, app.clock.now), "127.0.0.1", port)
    seen: list[tuple[float, str]] = []
    resp = urllib.request.urlopen(f"http://127.0.0.1:{port}/board/{token}/events", timeout=30)

    def read():
        kind = ""
        for raw in resp:
            line = raw.decode()
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: ") and kind == "state":      # (not the ticks)
                st = json.loads(line[6:])
                seen.append((time.perf_counter(), st["queue"][0]["word"] + str(len(st["queue"]))))
    threading.Thread(target=read, daemon=True).start()
    lat = []
    for i in range(samples):
        time.sleep(0.3)                      # commands spread out, like people typing
        before = len(seen)
        say("李四", "暂离" if i % 2 == 0 else "回来")
        t = time.perf_counter()
        while len(seen) == before:
            time.sleep(0.001)
        lat.append((seen[before][0] - t) * 1000)
    server.stop()
    app.engine.dispose()
    return {"p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "max_ms": max(lat), "n": samples}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sales", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=548, help="receptions per day (548 × 365 ≈ 200,000)")
    ap.add_argument("--samples", type=int, default=40, help="board latency samples")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    a = ap.parse_args()
    print(machine())
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows, lat_rows, targets = [], [], []
    with tempfile.TemporaryDirectory() as tmp, pgcluster.cluster() as pg:
        dbs = []
        if a.db in ("sqlite", "both"):
            dbs.append(("SQLite", lambda n: f"sqlite:///{tmp}/{n}.db"))
        if a.db in ("postgresql", "both"):
            if pg is None:
                print("PostgreSQL binaries not found: PostgreSQL skipped")
            else:
                dbs.append(("PostgreSQL", lambda n: pgcluster.create_database(pg, "bench_")))
        for label, url in dbs:
            r = bench_report(url("report"), a.sales, a.days, a.per_day)
            for span in ("year", "month", "week"):
                rows.append([label, span, f"{r['receptions']:,}", r[span]["rows"], f"{r[span]['cold_ms']:.0f}",
                             f"{r[span]['warm_ms']:.0f}"])
            print(f"{label}: generated {r['receptions']:,} receptions in {r['generate_s']:.0f} s", flush=True)
            key = label.lower()
            targets.append(target_line(f"year report ({r['receptions'] // 1000}k receptions, warm)", key,
                                       r["year"]["warm_ms"], 200, " ms"))
            b = bench_board(url("board"), a.samples)
            lat_rows.append([label, b["n"], f"{b['p50_ms']:.0f}", f"{b['p95_ms']:.0f}", f"{b['max_ms']:.0f}"])
            targets.append(target_line("board visible after a command (p95)", key, b["p95_ms"], 1000, " ms"))
    print()
    print(md_table(["database", "range", "receptions in DB", "salespeople", "cold ms", "warm ms (median of 5)"], rows))
    print()
    print(md_table(["database", "commands", "p50 ms", "p95 ms", "max ms"], lat_rows))
    print()
    print("\n".join(targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
