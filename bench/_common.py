"""Shared helpers for the benchmarks: the import path, percentiles, markdown tables, the machine line.

The throwaway PostgreSQL cluster is storage/pgcluster.py, the same one tests/conftest.py uses.
"""
from __future__ import annotations

import math
import os
import platform
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # `python bench/x.py` from anywhere: import bot, storage, handlers
    sys.path.insert(0, str(ROOT))


# ---- numbers -----------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an unsorted list."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def _w(s: str) -> int:
    """Display width in a terminal (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def md_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A GitHub markdown table, padded for a monospace terminal; `align` like 'lrrr'."""
    cells = [[str(c) for c in r] for r in rows]
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(3, _w(h), *(_w(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def pad(v, i):
        fill = " " * (widths[i] - _w(v))
        return v + fill if align[i] == "l" else fill + v

    def sep(i):
        w = widths[i]
        return ":" + "-" * (w - 1) if align[i] == "l" else "-" * (w - 1) + ":"

    def line(vals):
        return "| " + " | ".join(pad(v, i) for i, v in enumerate(vals)) + " |"
    return "\n".join([line(headers), "| " + " | ".join(sep(i) for i in range(len(headers))) + " |"]
                     + [line(r) for r in cells])


def machine() -> str:
    import sqlite3

    import sqlalchemy

    from storage import pgcluster
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.node()} · {os.cpu_count()} cores ({cpu}) · Python {platform.python_version()}"
            f" · SQLAlchemy {sqlalchemy.__version__} · SQLite {sqlite3.sqlite_version} · {pgcluster.version()}")


# ---- `make bench` summary lines ----------------------------------------------------------------
def target_line(name: str, database: str, figure: float, target: float, unit: str,
                lower_is_better: bool = True) -> str:
    """One line per target, grep-able by `make bench`: the figure, the target, met or not.
    e.g. `TARGET command/bare-txn [sqlite] 2.8× ≤ 3× met`."""
    met = figure <= target if lower_is_better else figure >= target
    op = "≤" if lower_is_better else "≥"
    return f"TARGET {name} [{database}] {figure:.3g}{unit} {op} {target:g}{unit} {'met' if met else 'NOT met'}"
