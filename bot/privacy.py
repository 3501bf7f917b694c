"""RULES §10: a full phone number never appears in a group message."""
from __future__ import annotations

import re

from rules.customers import mask

_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    """The last safety pass over every group message: 13812345678 → 138****5678."""
    return _PHONE_IN_TEXT.sub(lambda mt: mask(mt.group(1) + mt.group(2) + mt.group(3)), text)
