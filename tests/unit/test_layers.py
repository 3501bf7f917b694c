"""The layer contracts of issue 12 (.importlinter), checked by `lint-imports` on every `make test`.

bot (bot/adapters at its edge) -> handlers -> storage -> rules, one direction only.
The contracts kept today must stay kept; the whole file is expected to fail until the other
issue-12 branches land (strict xfail: the day it passes, the xfail must go).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEPT_TODAY = ("rules-pure", "rules-no-io", "storage-below-handlers", "adapters-at-the-edge", "no-cycles-inside")


def lint_imports(*contracts: str) -> subprocess.CompletedProcess:
    beside = Path(sys.executable).with_name("lint-imports")      # the venv's, even when not on PATH
    exe = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert exe, "lint-imports not found: `make install` installs the dev extras"
    args = [exe, "--no-cache", *(a for c in contracts for a in ("--contract", c))]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_contracts_kept_today_stay_kept():
    r = lint_imports(*KEPT_TODAY)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Contracts: {len(KEPT_TODAY)} kept, 0 broken." in r.stdout


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "issue 12 in progress: 'handlers imports only rules and storage' and the layers contract "
    "(handlers.admin -> bot.export); the lead removes this xfail when that branch has landed"))
def test_every_layer_contract_is_kept():
    r = lint_imports()
    assert r.returncode == 0, r.stdout + r.stderr
