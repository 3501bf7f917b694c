#!/usr/bin/env python
"""The live board at scale (issue 23 item 4): 1,000 open boards, and an update still arrives within 1 s.

A bot (`App`) and its pages (uvicorn in a thread, as `reception-bot run` serves them) on one database;
`--projects` projects (default 50), each with its board link; `--streams` (default 1,000) Server-Sent
Event clients spread evenly over the boards (20 screens a board), all in one client process (asyncio,
plain sockets), so the client's work does not share this process's interpreter. Then:

- idle: the CPU time the bot process spends in `--idle` seconds with every board open and nothing
  happening (what the open boards cost by themselves);
- updates: `--samples` commands (暂离 / 回来 of a salesperson, through `App.handle`, a project in turn,
  0.3 s apart); for each, the time from `handle` returning (committed) to the state event that shows
  it on each of that board's screens, and to the last of them.

    .venv/bin/python bench/board.py [--db sqlite|postgresql|both] [--streams 1000] [--projects 50]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import machine, md_table, pct, target_line

from storage import pgcluster

TARGET_S = 1.0
CLIENT = r'''
import asyncio, json, sys, time
port, tokens, per = int(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3])

async def stream(i, k, token, ready):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"GET /board/{token}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    kind, first = "", True
    while line := await reader.readline():
        line = line.decode().rstrip("\r\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "state":
            st = json.loads(line[6:])
            mark = next(e["presence"] for e in st["queue"] if e["name"] == "甲")
            if first:
                first = False
                ready.append(i)
            else:
                print(f"{k} {i} {time.monotonic():.6f} {mark}", flush=True)

async def main():
    ready, tasks = [], []
    for i in range(len(tokens) * per):
        k = i % len(tokens)
        tasks.append(asyncio.create_task(stream(i, k, tokens[k], ready)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    while len(ready) < len(tasks):
        await asyncio.sleep(0.1)
    print("READY", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)

asyncio.run(main())
'''


def config(folder: Path, port: int, projects: int) -> Path:
    lines = [f"web: {{port: {port}}}", "projects:"]
    for k in range(projects):
        lines += [f"  - name: 楼盘{k:03d}", '    shift: {start: "00:00", end: "23:59"}',
                  f"    managers: [经理{k:03d}]", "    salespeople: [甲, 乙, 丙]"]
    cfg = folder / "config.yaml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


class Arrivals:
    """The client process's lines: (project, stream, monotonic time, presence of 甲) per state event."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.ready = proc, threading.Event()
        self.got: list[tuple[int, int, float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("READY"):
                self.ready.set()
            elif line.strip():
                k, i, t, mark = line.split()
                self.got.append((int(k), int(i), float(t), mark))


def cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def bench(url: str, a) -> dict:
    from bot.adapters.web import make_web, serve_in_thread
    from bot.bootstrap import bootstrap
    from bot.clock import SystemClock
    from handlers.messages import Incoming
    port = pgcluster.free_port()
    cfg = config(Path(tempfile.mkdtemp()), port, a.projects)
    app = bootstrap(cfg, db_url=url, clock=SystemClock())
    names = list(app.projects)

    def say(k: int, who: str, text: str):
        return app.handle(Incoming("console", who, text, app.clock.now(), project=names[k]))

    tokens = []
    for k in range(a.projects):
        say(k, f"经理{k:03d}", "/开班 甲 乙 丙")
        tokens.append(say(k, f"经理{k:03d}", "/看板")[0].text.split("/board/")[1].split()[0])
    per = max(1, a.streams // a.projects)
    web = make_web(app.engine, app.projects, app.clock.now, max_streams=per * a.projects + 10,
                   max_streams_per_board=per + 1)
    server = serve_in_thread(web, "127.0.0.1", port)
    client = subprocess.Popen([sys.executable, "-c", CLIENT, str(port), ",".join(tokens), str(per)],
                              stdout=subprocess.PIPE, text=True)
    arrivals = Arrivals(client)
    try:
        if not arrivals.ready.wait(300):
            raise SystemExit("the streams did not all open in 300 s")
        time.sleep(2)
        c0, t0 = cpu_self(), time.monotonic()
        time.sleep(a.idle)
        idle_cpu = (cpu_self() - c0) / (time.monotonic() - t0)
        every, last = [], []
        for i in range(a.samples):
            time.sleep(0.3)
            k = i % a.projects
            before = len(arrivals.got)
            say(k, "甲", "暂离" if (i // a.projects) % 2 == 0 else "回来")
            sent = time.monotonic()
            mine = _wait_for_screens(arrivals, before, k, per)
            every += [t - sent for t in mine]
            last.append(max(mine) - sent if len(mine) == per else float("inf"))
    finally:
        client.terminate()
        client.wait(10)
        server.stop()
        app.engine.dispose()
    return {"streams": per * a.projects, "idle_cpu": idle_cpu, "every": every, "last": last}


def _wait_for_screens(arrivals: Arrivals, before: int, k: int, per: int, timeout: float = 10) -> list[float]:
    """Arrival times of the first new state on each of project k's screens (up to `timeout` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        firsts: dict[int, float] = {}
        for pk, i, t, _ in arrivals.got[before:]:
            if pk == k:
                firsts.setdefault(i, t)
        if len(firsts) == per:
            return list(firsts.values())
        time.sleep(0.005)
    return list(firsts.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--projects", type=int, default=50)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    a = ap.parse_args()
    print(machine())
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows, targets = [], []
    with tempfile.TemporaryDirectory() as tmp, pgcluster.cluster(max_connections=100) as pg:
        dbs = []
        if a.db in ("sqlite", "both"):
            dbs.append(("SQLite", "sqlite", lambda: f"sqlite:///{tmp}/board.db"))
        if a.db in ("postgresql", "both"):
            if pg is None:
                print("PostgreSQL binaries not found: PostgreSQL skipped")
            else:
                dbs.append(("PostgreSQL", "postgresql", lambda: pgcluster.create_database(pg, "bench_")))
        for label, key, url in dbs:
            r = bench(url(), a)
            every, last = r["every"], r["last"]
            rows.append([label, r["streams"], f"{r['idle_cpu'] * 100:.1f} %", len(last), f"{pct(every, 50) * 1000:.0f}",
                         f"{pct(every, 95) * 1000:.0f}", f"{pct(last, 50) * 1000:.0f}", f"{pct(last, 95) * 1000:.0f}",
                         f"{max(last) * 1000:.0f}"])
            targets.append(target_line("board update, 1000 open (p95 of the last screen)", key, pct(last, 95),
                                       TARGET_S, " s"))
            print(f"{label}: done", flush=True)
    print()
    print(md_table(["database", "open streams", "idle CPU of the bot", "commands", "p50 ms", "p95 ms",
                    "last screen p50 ms", "last screen p95 ms", "last screen max ms"], rows))
    print()
    print("\n".join(targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
