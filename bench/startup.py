#!/usr/bin/env python
"""Start-up: `reception-bot say` as a whole process, timed from outside (issue 23 item 5: ≤ 0.7 s).

A config with one project and a SQLite file in a temporary folder; one `say` first migrates the new
file (not timed: a release's first start), then `--runs` (default 10) `reception-bot say 李四 轮排`
processes are timed with a monotonic timer around `subprocess.run`: interpreter start, imports,
config, the engine, the schema check, one command, exit. The median is the figure.

    .venv/bin/python bench/startup.py [--runs 10] [--importtime]

The project's modules are compiled to bytecode first, as pip does for an installed (non-editable)
package and the Dockerfile's image has: an editable install under PYTHONDONTWRITEBYTECODE would
otherwise compile every changed module again in every process.

`--importtime` also prints the 15 slowest imports of one run (`python -X importtime`, cumulative).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, md_table, pct, target_line

BIN = Path(sys.executable).parent
CONFIG = """
timezone: Asia/Shanghai
policy: {preset: real_estate}
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [张经理]
    salespeople: [李四, 王五, 赵六, 钱七]
"""
TARGET_S = 0.7
PACKAGES = ("bot", "handlers", "storage", "rules")


def cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def say(folder: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process; the CPU time says less about the machine's load."""
    cmd = [str(BIN / "reception-bot"), "say", "--config", str(folder / "config.yaml"),
           "--db", f"sqlite:///{folder}/reception.db", "--at", "2026-12-02 10:00", "李四", "轮排"]
    c, t = cpu(), time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"reception-bot say failed ({r.returncode}):\n{r.stderr}")
    return took, cpu() - c


def importtime(folder: Path) -> list[list]:
    """The slowest imports (cumulative µs) of one `say` run."""
    code = ("import sys; from bot.cli import main; sys.exit(main(['say', '--config', sys.argv[1], '--db', sys.argv[2],"
            " '--at', '2026-12-02 10:00', '李四', '轮排']))")
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code, str(folder / "config.yaml"),
                        f"sqlite:///{folder}/reception.db"], capture_output=True, text=True, cwd=folder)
    rows = []
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cum, name = line[12:].split("|")
            rows.append((int(cum), name.rstrip()))
    rows.sort(reverse=True)
    return [[name, f"{cum / 1000:.0f}"] for cum, name in rows[:15]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--importtime", action="store_true")
    a = ap.parse_args()
    print(machine())
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(root / p) for p in PACKAGES)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.yaml").write_text(CONFIG, encoding="utf-8")
        first, first_cpu = say(folder)                           # creates and migrates the file
        runs = [say(folder) for _ in range(a.runs)]
        times, cpus = [w for w, _ in runs], [c for _, c in runs]
        print()
        print(md_table(["run", "n", "median s", "p90 s", "min s", "max s", "CPU s (median)"],
                       [["first (new file, migrated)", 1, f"{first:.3f}", "", "", "", f"{first_cpu:.3f}"],
                        ["`reception-bot say 李四 轮排`", a.runs, f"{statistics.median(times):.3f}",
                         f"{pct(times, 90):.3f}", f"{min(times):.3f}", f"{max(times):.3f}",
                         f"{statistics.median(cpus):.3f}"]]))
        if a.importtime:
            print()
            print(md_table(["module (slowest imports of one run)", "cumulative ms"], importtime(folder)))
    print()
    print(target_line("startup say", "sqlite", statistics.median(times), TARGET_S, " s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
