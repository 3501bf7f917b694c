"""The layer contracts of issue 12 (.importlinter), checked by `lint-imports` on every `make test`.

bot (bot/adapters at its edge) -> handlers -> storage -> rules, one direction only.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.waits import patience

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(*contracts: str) -> subprocess.CompletedProcess:
    beside = Path(sys.executable).with_name("lint-imports")      # the venv's, even when not on PATH
    exe = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert exe, "lint-imports not found: `make install` installs the dev extras"
    args = [exe, "--no-cache", *(a for c in contracts for a in ("--contract", c))]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=patience(120))


def test_every_layer_contract_is_kept():
    r = lint_imports()
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 broken." in r.stdout, r.stdout


def test_a_handler_importing_bot_breaks_a_contract(tmp_path):
    """The contracts can fail: the same check on a tree where a handler imports the bus."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".venv", ".git", "data", "exports", "*.db"))
    probe = tree / "handlers" / "probe.py"
    probe.write_text("import bot.app  # noqa: F401\n", encoding="utf-8")
    beside = Path(sys.executable).with_name("lint-imports")
    exe = str(beside) if beside.exists() else shutil.which("lint-imports")
    r = subprocess.run([exe, "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=patience(120),
                       env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    assert r.returncode != 0 and "handlers.probe -> bot.app" in r.stdout, r.stdout + r.stderr
