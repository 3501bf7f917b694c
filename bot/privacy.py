"""RULES §10: a full phone number never appears in a group message or a log line.

One masking pass over the normalised text (rules/normalize.py folds `１３８`, `138  1234`, `+86`, dashes),
cut back into the original text so the rest of it (full-width Chinese punctuation) stays as written:
1. a phone as typed → `138****5678`;
2. digits glued to other digits (`1-1-113812345678`): the middle four digits of every mobile-looking
   run of 11 inside the digit run become `*`, so no 11-digit mobile survives.
"""
from __future__ import annotations

import re

from rules.customers import mask
from rules.normalize import PHONE, fold_aligned

_MOBILE = re.compile(r"(?=(1[3-9][0-9]{9}))")
_RUN = re.compile(r"[0-9](?:[ -]{0,3}[0-9])*")


def mask_phones(text: str) -> str:
    """The last safety pass over every group message and log record: 13812345678 → 138****5678."""
    if not any(ch.isdigit() for ch in text):
        return text
    folded = fold_aligned(text)
    out = list(text)
    for mt in PHONE.finditer(folded):
        out[mt.start():mt.end()] = [""] * (mt.end() - mt.start())
        out[mt.start()] = mask(re.sub(r"[ -]", "", mt.group(1)))
    return _mask_runs("".join(out))


def _mask_runs(text: str) -> str:
    """Pass 2 on the result of pass 1: any mobile-looking 11 digits left in a digit run (glued to other
    digits, or what a mask's last four make with the digits after it) lose their middle four."""
    folded = fold_aligned(text)
    out = list(text)
    for run in _RUN.finditer(folded):
        where = [run.start() + i for i, ch in enumerate(run.group()) if ch.isdigit()]
        digits = "".join(folded[i] for i in where)
        for hit in _MOBILE.finditer(digits):
            for k in range(hit.start() + 3, hit.start() + 7):
                out[where[k]] = "*"
    return "".join(out)
