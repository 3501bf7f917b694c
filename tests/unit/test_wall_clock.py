"""One clock: nothing but bot/clock.py reads the wall clock, in the shipped code or in the tests.

An AST walk over rules/ storage/ handlers/ bot/ tests/ for the calls that read the time of day:
`datetime.now()`, `datetime.utcnow()`, `datetime.today()`, `date.today()`, `time.time()` (and
`time.time_ns`, `time.localtime`, `time.gmtime`, `time.ctime` without an argument), however they
were imported. Monotonic timers (`time.monotonic`, `time.perf_counter`) measure durations and are
fine. The tests' own wall clock (tests/clock.py) is a `StartedClock` from bot/clock.py.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIRS = ("rules", "storage", "handlers", "bot", "tests")
THE_CLOCK = "bot/clock.py"
WALL = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
        ("time", "time"), ("time", "time_ns")}
WALL_WITHOUT_ARGS = {("time", "localtime"), ("time", "gmtime"), ("time", "ctime")}


def _names(tree: ast.AST) -> dict[str, str]:
    """Local name → what it stands for: `from datetime import datetime as dt` gives {"dt": "datetime"}."""
    names = {"datetime": "datetime", "date": "date", "time": "time"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("datetime", "time"):
            for a in node.names:
                names[a.asname or a.name] = a.name if node.module == "datetime" else f"time.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name in ("datetime", "time"):
                    names[a.asname or a.name] = a.name
    return names


def _owner(node: ast.expr, names: dict[str, str]) -> str | None:
    """`datetime` for `datetime.datetime` or a name bound to the datetime class, else the name's meaning."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and names.get(node.value.id) == "datetime":
        return node.attr                  # datetime.datetime / datetime.date
    return None


def wall_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) for every wall-clock read in `source`."""
    tree, found = ast.parse(source), []
    names = _names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute):
            key = (_owner(f.value, names), f.attr)
        elif isinstance(f, ast.Name) and names.get(f.id, "").startswith("time."):
            key = ("time", names[f.id][5:])           # from time import time
        else:
            continue
        if key in WALL or (key in WALL_WITHOUT_ARGS and not node.args):
            found.append((node.lineno, f"{key[0]}.{key[1]}()"))
    return found


def sources():
    for d in DIRS:
        for path in sorted((ROOT / d).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel != THE_CLOCK:
                yield rel, path.read_text(encoding="utf-8")


def test_nothing_but_the_clock_reads_the_wall_clock():
    offences = [f"{rel}:{line}: {call}" for rel, src in sources() for line, call in wall_reads(src)]
    assert offences == [], "read the time from the clock you were given (bot/clock.py):\n" + "\n".join(offences)


def test_the_clock_itself_is_seen_reading_it():
    assert wall_reads((ROOT / THE_CLOCK).read_text(encoding="utf-8")) != []


@pytest.mark.parametrize("source", [
    "from datetime import datetime\ndatetime.now()",
    "from datetime import datetime as dt, UTC\ndt.now(UTC)",
    "import datetime\ndatetime.datetime.now()",
    "import datetime as d\nd.date.today()",
    "from datetime import date\ndate.today()",
    "import time\ntime.time()",
    "from time import time\ntime()",
    "import time as t\nt.time_ns()",
    "import time\ntime.localtime()",
    "from datetime import datetime\ndatetime.utcnow()",
])
def test_every_way_of_reading_it_is_caught(source):
    assert len(wall_reads(source)) == 1


@pytest.mark.parametrize("source", [
    "import time\ntime.monotonic(); time.perf_counter(); time.sleep(1)",
    "import time\ntime.localtime(0)",
    "from datetime import datetime\ndatetime.fromtimestamp(0)",
    "clock.now()",
])
def test_timers_and_clocks_are_not_wall_reads(source):
    assert wall_reads(source) == []
