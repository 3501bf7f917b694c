"""The composition root: config → engine (migrated) → App → adapters → the sweep. Nothing connects at import time.

`bootstrap()` builds the App (every command of the CLI uses it); `start_edges()` builds what
`reception-bot run` talks through: the web pages when config.yaml has `web:`, Feishu, WeChat and WeCom when
their credentials are set, else the console chat; then the sweep that delivers
through them. Tests pass fakes for any of these through `Factories` (production defaults).
Only this module and bot/runner.py import bot.adapters.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.adapters.charts import report_png
from bot.app import App
from bot.clock import Clock
from bot.config import Config, load_config, project_settings
from bot.config_sync import sync
from bot.logfilter import install as mask_phones_in_logs
from handlers.messages import Outgoing
from rules import texts as T
from storage.db import make_engine, migrate
from storage.uow import Units

if TYPE_CHECKING:                   # the adapters and the sweep are imported only by `run` (CLI start-up time)
    from bot.health import Health
    from bot.sweep import Deliver
    from bot.watchdog import Watched

log = logging.getLogger("reception")
Stopper = Callable[[], None]
TYPED_NAMES = frozenset({"console"})     # the console, replay and say: the sender types their own name
FEISHU_WAIT_S = 120                 # a send queued behind Feishu's rate limits: waited for before marking


def bootstrap(config: Config | str | Path, db_url: str | None = None, *, clock: Clock, uows=None) -> App:
    """The App on a migrated database, config.yaml synced in; `clock` is the one wall clock.
    `uows`: the units of work to run on instead of the database (the handler tests' in-memory fakes)."""
    mask_phones_in_logs()                       # phones are masked in logs before anything can log
    cfg = config if isinstance(config, Config) else load_config(config)
    if uows is None:
        engine = make_engine(db_url or cfg.database)
        migrate(engine)
        uows = Units(engine)
    app = App(uows, project_settings(cfg), clock, write_workbook=write_workbook, draw_chart=report_png,
              typed_names=TYPED_NAMES)
    sync(uows, app.projects, app.clock.now())
    return app


def chart_font(env: Mapping[str, str]) -> str:
    """The CJK font the charts are drawn with (`doctor` checks it is there)."""
    from bot.adapters.charts import cjk_font
    return cjk_font(env)


def write_workbook(path: Path, sheets: list) -> None:
    """/导出's writer: openpyxl is imported when a workbook is written, not at start-up (CLI start-up time)."""
    from bot.adapters.xlsx import write_workbook as write
    write(path, sheets)


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


def start_health(app: App, cfg: Config) -> Health:
    """/readyz's checks and the watchdog (config.yaml `ops:`); the watchdog tells the managers privately."""
    from bot.health import Health
    from bot.watchdog import Watchdog
    o = cfg.ops
    dog = Watchdog(tell_managers(app), o.watchdog_seconds, o.alert_minutes * 60)
    return Health(app.engine, app.clock, dog, timedelta(minutes=o.outbox_late_minutes))


def tell_managers(app: App) -> Callable[[str, int, bool], None]:
    """The watchdog's word to every project's managers, privately, through the outbox (the sweep sends it;
    a message for a platform that is down waits there until it is back)."""
    def tell(platform: str, minutes: int, back: bool) -> None:
        now = app.clock.now()
        text = (T.PLATFORM_BACK if back else T.PLATFORM_DOWN).format(
            platform=T.PLATFORMS.get(platform, platform), minutes=minutes)
        stamp = f"{'up' if back else 'down'}:{platform}:{now:%Y%m%d%H%M%S}"
        msgs = [Outgoing(text, to=name, key=f"{stamp}:{p.name}:{name}", project=p.name)
                for p in app.projects.values() for name in p.managers]
        app.outbox.store(msgs, now, numbered=False)
        log.warning("watchdog: %s", text)
    return tell


def start_web(app: App, cfg: Config, health: Health | None = None) -> list[Stopper]:
    """The board and report pages in this process when config.yaml has `web:` (with /healthz, /readyz and
    /metrics when `health` is given); their stopper."""
    if cfg.web is None:
        return []
    from bot.adapters.web import make_web, serve_in_thread
    from bot.adapters.web.ops import ops_routes
    web = make_web(app.engine, app.projects, app.clock.now, cfg.web.max_streams, cfg.web.max_streams_per_board,
                   ops_routes(health) if health is not None else ())
    server = serve_in_thread(web, cfg.web.host, cfg.web.port)
    log.info("board pages on http://%s:%s", cfg.web.host, cfg.web.port)
    return [server.stop]


def serve_health(app: App, cfg: Config, health: Health | None) -> list[Stopper]:
    """Without `web:`, /healthz, /readyz and /metrics on a small app of their own (config.yaml `ops:`).
    A port already taken is logged, not fatal: the chat matters more than its health page."""
    if health is None or cfg.web is not None:
        return []
    from bot.adapters.web import serve_in_thread
    from bot.adapters.web.ops import make_ops_app
    try:
        server = serve_in_thread(make_ops_app(health), cfg.ops.host, cfg.ops.port)
    except Exception as e:
        log.error("health endpoints not served on %s:%s: %s", cfg.ops.host, cfg.ops.port, e)
        return []
    log.info("health endpoints on http://%s:%s (/healthz /readyz /metrics)", cfg.ops.host, cfg.ops.port)
    return [server.stop]


def start_feishu(app: App, settings) -> tuple[Deliver, Stopper, Watched]:
    """The Feishu adapter, started; its send (waits for the rate-limited sender), its stopper, itself (watched)."""
    from bot.adapters.feishu.adapter import FeishuAdapter
    feishu = FeishuAdapter(app, settings, app.clock)
    feishu.start()
    log.info("Feishu adapter started")
    return (lambda msgs: feishu.send_and_wait(msgs, FEISHU_WAIT_S)), feishu.stop, feishu


def start_wechat(app: App, cfg: Config) -> tuple[Deliver, Stopper, Watched]:
    """The WeChat adapter on its own thread and event loop; its send, its stopper, itself (watched)."""
    from bot.adapters.wechat.adapter import WechatAdapter, WechatSettings
    adapter = WechatAdapter(app, WechatSettings.from_env(cfg.wechat), app.clock)
    import asyncio
    t = threading.Thread(target=lambda: asyncio.run(adapter.run()), name="wechat", daemon=True)
    t.start()
    log.info("WeChat adapter started")
    return adapter.send, lambda: (adapter.stop_from_thread(), t.join(10)), adapter


def start_wecom(app: App, settings) -> tuple:
    """The WeCom adapter on its own thread and event loop (it connects once it holds the bot); its send,
    its stopper, and the adapter itself for the watchdog."""
    from bot.adapters.wecom.adapter import WecomAdapter
    from bot.adapters.wecom.holder import Holder
    adapter = WecomAdapter(app, settings, app.clock, Holder(app.engine, settings.bot_id))
    adapter.start()
    log.info("WeCom adapter started")
    return adapter.send, adapter.stop, adapter


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

    health: Callable[[App, Config], Health | None] = start_health
    web: Callable[[App, Config, Health | None], list[Stopper]] = start_web
    health_web: Callable[[App, Config, Health | None], list[Stopper]] = serve_health
    feishu: Callable[[App, Any], tuple] = start_feishu          # (deliver, stopper[, watched adapter])
    wechat: Callable[[App, Config], tuple] = start_wechat
    wecom: Callable[[App, Any], tuple] = start_wecom               # (deliver, stopper[, watched adapter])
    console: Callable[[App, str], Any] = start_console
    scheduler: Callable[[App, Deliver], Any] = start_sweep


@dataclass
class Edges:
    """What `run` talks through: platform channels (name, send) or the console, the sweep, their stoppers."""

    channels: list[tuple[str, Deliver]] = field(default_factory=list)
    stoppers: list[Stopper] = field(default_factory=list)
    console: Any = None
    scheduler: Any = None
    health: Health | None = None

    def add(self, name: str, started: tuple) -> None:
        self.channels.append((name, started[0]))
        self.stoppers.append(started[1])
        if len(started) > 2 and self.health is not None:    # the adapter says when its last frame came
            self.health.watchdog.watch(started[2])

    def stop(self) -> None:
        """The watchdog and the sweep first (waiting for a running sweep when platforms deliver), then the adapters."""
        if self.health is not None:
            self.health.watchdog.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=self.console is None)
        for stopper in self.stoppers:
            stopper()


def start_edges(app: App, cfg: Config, project: str, env: Mapping[str, str] | None = None,
                feishu=None, factories: Factories | None = None) -> Edges:
    """Start the web pages, the platforms whose credentials are set (`feishu`: its settings, read
    earlier; WeCom's are read from `cfg` and `env`) or else the console chat, then the sweep delivering through them."""
    env, factories = os.environ if env is None else env, factories or Factories()
    health = factories.health(app, cfg)
    edges = Edges(stoppers=factories.web(app, cfg, health), health=health)
    if feishu is not None:
        edges.add("feishu", factories.feishu(app, feishu))
    if env.get("WECHATY_PUPPET_SERVICE_ENDPOINT"):
        edges.add("wechat", factories.wechat(app, cfg))
    if (wecom := wecom_settings(cfg, env)) is not None:
        edges.add("wecom", factories.wecom(app, wecom))
    if edges.channels:
        from bot.sweep import fan_out
        deliver: Deliver = fan_out(edges.channels)
        edges.stoppers[:0] = factories.health_web(app, cfg, health)
        if health is not None:
            health.watchdog.start()
    else:
        edges.console = factories.console(app, project)
        edges.console.start()               # the greeting before anything the sweep prints
        deliver = edges.console.send
    edges.scheduler = factories.scheduler(app, deliver)
    return edges

