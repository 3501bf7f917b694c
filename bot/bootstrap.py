"""The composition root: config → engine (migrated) → App. Nothing connects at import time."""
from __future__ import annotations

from pathlib import Path

from bot.app import App
from bot.clock import SystemClock
from bot.config import Config, load_config, project_settings
from bot.logfilter import install as mask_phones_in_logs
from storage.db import make_engine, migrate


def bootstrap(config: Config | str | Path, db_url: str | None = None, clock=None) -> App:
    mask_phones_in_logs()                       # RULES §10: before anything can log
    cfg = config if isinstance(config, Config) else load_config(config)
    engine = make_engine(db_url or cfg.database)
    migrate(engine)
    app = App(engine, project_settings(cfg))
    app.sync((clock or SystemClock()).now())
    return app
