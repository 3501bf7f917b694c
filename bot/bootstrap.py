"""The composition root: config → engine (migrated) → App → adapters → the sweep. Nothing connects at import time.

`bootstrap()` builds the App (every command of the CLI uses it); `start_edges()` builds what
`reception-bot run` talks through: the web pages when config.yaml has `web:`, Feishu, WeChat and WeCom when
their credentials are set, else the console chat; then the sweep that delivers
through them. Tests pass fakes for any of these through `Factories` (production defaults).
Only this module and bot/runner.py import bot.adapters.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.adapters.xlsx import write_workbook
from bot.app import App
from bot.clock import Clock
from bot.config import Config, load_config, project_settings
from bot.config_sync import sync
from bot.logfilter import install as mask_phones_in_logs
from storage.db import make_engine, migrate

if TYPE_CHECKING:                   # the adapters and the sweep are imported only by `run` (CLI start-up time)
    from bot.sweep import Deliver

log = logging.getLogger("reception")
Stopper = Callable[[], None]
FEISHU_WAIT_S = 120                 # a send queued behind Feishu's rate limits: waited for before marking


def bootstrap(config: Config | str | Path, db_url: str | None = None, *, clock: Clock) -> App:
    """The App on a migrated database, config.yaml synced in; `clock` is the one wall clock."""
    mask_phones_in_logs()                       # phones are masked in logs before anything can log
    cfg = config if isinstance(config, Config) else load_config(config)
    engine = make_engine(db_url or cfg.database)
    migrate(engine)
    app = App(engine, project_settings(cfg), clock, write_workbook=write_workbook)
    sync(engine, app.projects, app.clock.now())
    return app


def has_platform(env: Mapping[str, str]) -> bool:
    """Credentials of a chat platform are set (else `run` opens the console chat)."""
    return bool(env.get("FEISHU_APP_ID") or env.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or env.get("WECOM_BOT_ID"))


def feishu_settings(cfg: Config, env: Mapping[str, str]):
    """Feishu's settings when its app id and secret are set, else None; read before the database is
    opened, so a missing webhook secret stops `run` first (ConfigError)."""
    if not (env.get("FEISHU_APP_ID") and env.get("FEISHU_APP_SECRET")):
        return None
    from bot.adapters.feishu.adapter import FeishuSettings
    return FeishuSettings.from_env(cfg.feishu, env)


def wecom_settings(cfg: Config, env: Mapping[str, str]):
    """WeCom's settings when its bot id and secret are set (environment or config.yaml `wecom:`),
    else None; read before the database is opened, so a mistake stops `run` first (ConfigError)."""
    from bot.adapters.wecom.settings import WecomSettings
    return WecomSettings.read(getattr(cfg, "wecom", None), env)


def start_web(app: App, cfg: Config) -> list[Stopper]:
    """The board and report pages in this process when config.yaml has `web:`; their stopper."""
    if cfg.web is None:
        return []
    from bot.adapters.web import make_web, serve_in_thread
    web = make_web(app.engine, app.projects, app.clock.now, cfg.web.max_streams, cfg.web.max_streams_per_board)
    server = serve_in_thread(web, cfg.web.host, cfg.web.port)
    log.info("board pages on http://%s:%s", cfg.web.host, cfg.web.port)
    return [server.stop]


def start_feishu(app: App, settings) -> tuple[Deliver, Stopper]:
    """The Feishu adapter, started; its send (waits for the rate-limited sender) and its stopper."""
    from bot.adapters.feishu.adapter import FeishuAdapter
    feishu = FeishuAdapter(app, settings, app.clock)
    feishu.start()
    log.info("Feishu adapter started")
    return (lambda msgs: feishu.send_and_wait(msgs, FEISHU_WAIT_S)), feishu.stop


def start_wechat(app: App, cfg: Config) -> tuple[Deliver, Stopper]:
    """The WeChat adapter on its own thread and event loop; its send and its stopper."""
    from bot.adapters.wechat.adapter import WechatAdapter, WechatSettings
    adapter = WechatAdapter(app, WechatSettings.from_env(cfg.wechat), app.clock)
    t = threading.Thread(target=lambda: asyncio.run(adapter.run()), name="wechat", daemon=True)
    t.start()
    log.info("WeChat adapter started")
    return adapter.send, lambda: (adapter.stop_from_thread(), t.join(10))


def start_wecom(app: App, settings) -> tuple[Deliver, Stopper]:
    """The WeCom adapter on its own thread and event loop (it connects once it holds the bot); its send and stopper."""
    from bot.adapters.wecom.adapter import WecomAdapter
    from bot.adapters.wecom.holder import Holder
    adapter = WecomAdapter(app, settings, app.clock, Holder(app.engine, settings.bot_id))
    adapter.start()
    log.info("WeCom adapter started")
    return adapter.send, adapter.stop


def start_console(app: App, project: str):
    """The console chat (started by `start_edges` after the greeting)."""
    from bot.adapters.console import ConsoleAdapter
    return ConsoleAdapter(app, project)


def start_sweep(app: App, deliver: Deliver):
    """The per-process sweep (bot/sweep.py) delivering through `deliver`."""
    from bot.sweep import start_scheduler
    return start_scheduler(app, deliver)


@dataclass(frozen=True)
class Factories:
    """What `start_edges` starts; tests replace any of them with fakes."""

    web: Callable[[App, Config], list[Stopper]] = start_web
    feishu: Callable[[App, Any], tuple[Deliver, Stopper]] = start_feishu
    wechat: Callable[[App, Config], tuple[Deliver, Stopper]] = start_wechat
    wecom: Callable[[App, Any], tuple[Deliver, Stopper]] = start_wecom
    console: Callable[[App, str], Any] = start_console
    scheduler: Callable[[App, Deliver], Any] = start_sweep


@dataclass
class Edges:
    """What `run` talks through: platform channels (name, send) or the console, the sweep, their stoppers."""

    channels: list[tuple[str, Deliver]] = field(default_factory=list)
    stoppers: list[Stopper] = field(default_factory=list)
    console: Any = None
    scheduler: Any = None

    def add(self, name: str, started: tuple[Deliver, Stopper]) -> None:
        self.channels.append((name, started[0]))
        self.stoppers.append(started[1])

    def stop(self) -> None:
        """The sweep first (waiting for a running one when platforms deliver), then the adapters."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=self.console is None)
        for stopper in self.stoppers:
            stopper()


def start_edges(app: App, cfg: Config, project: str, env: Mapping[str, str] | None = None,
                feishu=None, factories: Factories | None = None) -> Edges:
    """Start the web pages, the platforms whose credentials are set (`feishu`: its settings, read
    earlier; WeCom's are read from `cfg` and `env`) or else the console chat, then the sweep delivering through them."""
    env, factories = os.environ if env is None else env, factories or Factories()
    edges = Edges(stoppers=factories.web(app, cfg))
    if feishu is not None:
        edges.add("feishu", factories.feishu(app, feishu))
    if env.get("WECHATY_PUPPET_SERVICE_ENDPOINT"):
        edges.add("wechat", factories.wechat(app, cfg))
    if (wecom := wecom_settings(cfg, env)) is not None:
        edges.add("wecom", factories.wecom(app, wecom))
    if edges.channels:
        from bot.sweep import fan_out
        deliver: Deliver = fan_out(edges.channels)
    else:
        edges.console = factories.console(app, project)
        edges.console.start()               # the greeting before anything the sweep prints
        deliver = edges.console.send
    edges.scheduler = factories.scheduler(app, deliver)
    return edges

