"""Every NN_name.txt with an NN_name.expect.json here runs through `reception-bot replay`
in-process and is checked the way /work/shared/scenarios/check.py checks (same schema)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main

HERE = Path(__file__).resolve().parent
SCENARIOS = sorted(p for p in HERE.glob("*.txt") if p.with_suffix(".expect.json").exists())
HEADER = re.compile(r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?)\] → (.+?):(?: (.*))?$")
# scenarios where the bot disagrees with RULES.md: the expectation keeps the RULES' answer
KNOWN_BUGS: dict[str, str] = {}


def parse(stdout: str):
    text, _, state_part = stdout.partition("=== state ===")
    blocks: list[dict] = []
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            blocks.append({"at": m.group(1), "to": m.group(2), "text": m.group(3) or ""})
        elif blocks:
            blocks[-1]["text"] += "\n" + line
    return blocks, (json.loads(state_part) if state_part.strip() else None)


def subset(expected, actual, path="state") -> list[str]:
    """Mismatches of `expected` within `actual`: dict keys listed must match; lists have the
    same length, `queue` (and lists of scalars) in order, other lists of objects in any order."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        return [e for k, v in expected.items()
                for e in ([f"{path}.{k}: missing"] if k not in actual else subset(v, actual[k], f"{path}.{k}"))]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        if path.endswith("queue") or not all(isinstance(e, dict) for e in expected):
            pairs = enumerate(zip(expected, actual, strict=True))      # lengths checked equal above
            return [e for i, (x, a) in pairs for e in subset(x, a, f"{path}[{i}]")]
        unused, errs = list(actual), []
        for x in expected:
            hit = next((a for a in unused if not subset(x, a)), None)
            if hit is None:
                errs.append(f"{path}: no item matches {x}")
            else:
                unused.remove(hit)
        return errs
    if isinstance(expected, float) or isinstance(actual, float):
        ok = isinstance(actual, (int, float)) and not isinstance(actual, bool) and abs(actual - expected) < 1e-9
        return [] if ok else [f"{path}: expected {expected!r}, got {actual!r}"]
    if expected == actual and type(expected) is type(actual):
        return []
    return [f"{path}: expected {expected!r}, got {actual!r}"]


def check(exp: dict, blocks: list[dict], state) -> list[str]:
    errs = []
    if "state" in exp:
        errs += subset(exp["state"], state) if state is not None else ["no state dump"]
    for want in exp.get("messages", []):
        if not any(b["at"].startswith(want.get("at", "")) and b["to"] == want["to"]
                   and all(c in b["text"] for c in want.get("contains", [])) for b in blocks):
            errs.append(f"no message like {want}")
    for never in exp.get("messages_never", []):
        hits = [b for b in blocks if b["at"].startswith(never.get("at", ""))
                and b["to"].startswith(never.get("to", ""))]
        if hits:
            errs.append(f"unexpected message {hits[0]}")
    for rx in exp.get("output_never", []):
        to = ""
        if isinstance(rx, dict):
            rx, to = rx["rx"], rx.get("to", "")
        hits = [b for b in blocks if b["to"].startswith(to) and re.search(rx, b["text"])]
        if hits:
            errs.append(f"/{rx}/ occurs in {hits[0]}")
    if "quiet" in exp:
        start, end = exp["quiet"]
        hits = [b for b in blocks if b["at"][11:16] >= start or b["at"][11:16] < end]
        if hits:
            errs.append(f"message in quiet hours: {hits[0]}")
    return errs


def _params():
    for p in SCENARIOS:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[p.stem])] if p.stem in KNOWN_BUGS else []
        yield pytest.param(p, id=p.stem, marks=marks)


def test_there_are_scenarios():
    assert len(SCENARIOS) >= 15


@pytest.mark.parametrize("scenario", list(_params()))
def test_scenario(scenario: Path, capsys):
    exp = json.loads(scenario.with_suffix(".expect.json").read_text(encoding="utf-8"))
    config = HERE / exp.get("config", "config.yaml")
    rc = main(["replay", str(scenario), "--config", str(config), "--state", *exp.get("args", [])])
    out = capsys.readouterr()
    assert rc == 0, out.err[-500:]
    blocks, state = parse(out.out)
    errs = check(exp, blocks, state)
    assert not errs, "\n".join(errs) + "\n--- bot output ---\n" + out.out[-4000:]


def test_checker_catches_a_wrong_queue_order():
    state = {"queue": [{"name": "甲", "counted": 1}, {"name": "乙", "counted": 0}]}
    assert subset({"queue": [{"name": "乙"}, {"name": "甲"}]}, state)
    assert not subset({"queue": [{"name": "甲"}, {"name": "乙"}]}, state)
    assert subset({"deals": [{"shares": {"甲": 0.5}}]}, {"deals": [{"shares": {"甲": 1.0}}]})
