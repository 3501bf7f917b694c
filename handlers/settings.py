"""What the core needs to know about one project, resolved from config.yaml by bot/config.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from rules.policy import Policy


@dataclass(frozen=True)
class ProjectSettings:
    """What the core needs to know about one project (resolved from the config)."""

    name: str
    tz: ZoneInfo
    shift_start: time
    shift_end: time
    policy: Policy
    managers: tuple[str, ...]
    salespeople: tuple[str, ...]
    ids: tuple[tuple[str, str, str], ...] = ()      # (name, platform, user id)
    chats: tuple[tuple[str, str], ...] = ()          # (platform, chat id)
    web_url: str = ""                                # base of the /看板 links ("" when web: is not set)
