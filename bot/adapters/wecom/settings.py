"""WeCom settings: the bot id and secret from the environment (WECOM_BOT_ID, WECOM_BOT_SECRET) or
config.yaml's `wecom:` block, the rest from `wecom:`; every mistake is one ConfigError line."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.adapters.wecom.client import DEFAULT_URL, Timing
from bot.config import ConfigError
from rules import texts as T

# name: (default, low, high). WeCom publishes no per-chat figure for the intelligent bot; 20 a minute
# is its documented group-bot (webhook) limit, the safe side until WeCom says otherwise.
NUMBERS = {"per_chat_per_minute": (20, 1, 600), "max_in_flight": (3, 1, 20), "heartbeat": (30.0, 1, 300),
           "dead_after": (60.0, 2, 600), "retry_max": (60.0, 1, 3600), "takeover_pause": (600.0, 1, 86400)}
TEXTS = ("bot_id", "secret", "url", "bot_name")


@dataclass(frozen=True)
class WecomSettings:
    bot_id: str
    secret: str = field(repr=False)
    url: str = DEFAULT_URL
    bot_name: str = "接待助手"          # its leading @mention is stripped from group messages
    per_chat_per_minute: int = 20
    max_in_flight: int = 3              # a user's messages being handled at once; more are refused
    timing: Timing = Timing()

    @classmethod
    def read(cls, cfg: Mapping | None, env: Mapping[str, str]) -> WecomSettings | None:
        """None when neither the id nor the secret is set anywhere (WeCom is not used)."""
        cfg = dict(cfg or {})
        if unknown := sorted(set(cfg) - set(TEXTS) - set(NUMBERS)):
            raise ConfigError(T.WECOM_UNKNOWN.format(names="、".join(unknown), known="、".join((*TEXTS, *NUMBERS))))
        bot_id = env.get("WECOM_BOT_ID") or str(cfg.get("bot_id") or "")
        secret = env.get("WECOM_BOT_SECRET") or str(cfg.get("secret") or "")
        if not bot_id and not secret:
            return None
        if not (bot_id and secret):
            raise ConfigError(T.WECOM_SECRETS)
        url = env.get("WECOM_WS_URL") or str(cfg.get("url") or DEFAULT_URL)
        if not url.startswith(("wss://", "ws://")):
            raise ConfigError(T.WECOM_URL.format(value=url))
        n = {k: _number(cfg.get(k, default), k, low, high) for k, (default, low, high) in NUMBERS.items()}
        timing = Timing(heartbeat=n["heartbeat"], dead_after=n["dead_after"], retry_max=n["retry_max"],
                        takeover_pause=n["takeover_pause"])
        return cls(bot_id, secret, url, str(cfg.get("bot_name") or "接待助手"), int(n["per_chat_per_minute"]),
                   int(n["max_in_flight"]), timing)


def _number(value, key: str, low: float, high: float) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:
        raise ConfigError(T.WECOM_NUMBER.format(key=key, low=low, high=high, value=value))
    return number
