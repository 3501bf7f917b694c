"""Every catalogue name the code uses exists (a missing one would only fail when that line runs)."""
from __future__ import annotations

import re
from pathlib import Path

from rules import texts as T

ROOT = Path(__file__).resolve().parents[2]


def test_every_text_the_code_names_is_in_the_catalogue():
    used = {name for folder in ("handlers", "rules", "bot") for path in (ROOT / folder).rglob("*.py")
            for name in re.findall(r"\bT\.([A-Z][A-Z0-9_]+)\b", path.read_text(encoding="utf-8"))}
    assert used and sorted(n for n in used if not hasattr(T, n)) == []
