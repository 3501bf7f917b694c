"""`reception-bot run`: platform adapters when credentials are set, else the local console chat;
`reception-bot web`: the board and report pages alone. What runs is wired in bot/bootstrap.py."""
from __future__ import annotations

import logging
import os
import signal
import threading

from bot import logsetup
from bot.bootstrap import bootstrap, feishu_settings, has_platform, start_edges, wecom_settings
from bot.config import load_config
from bot.transcript import check_catch_up, check_time, clock_of
from rules import texts as T

log = logging.getLogger("reception")


def run(args) -> int:
    env = os.environ
    # the console chat is for people: only warnings between the replies
    logsetup.configure(env, env.get("LOG_LEVEL", "INFO" if has_platform(env) else "WARNING"))
    cfg = load_config(args.config)
    feishu = feishu_settings(cfg, env)             # a missing secret stops us before the database
    wecom_settings(cfg, env)                        # … and a mistake in WeCom's (read again when it starts)
    args.db_url = args.db or cfg.database          # named by a database error, if one comes
    app = bootstrap(cfg, db_url=args.db_url, clock=_clock(args, cfg))
    for name in app.projects:                       # a catch-up over 31 days only when asked
        check = check_time if getattr(args, "at", None) else check_catch_up      # --at: never before the last change
        check(app, name, app.clock.now(), getattr(args, "catch_up", False))
    stop = threading.Event()                        # before the edges start: a SIGTERM while they start is clean too
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    edges = start_edges(app, cfg, args.project or app.default, env, feishu)
    try:
        if edges.console is not None:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            return edges.console.run()
        _wait_for_stop(stop)
        log.info("stopping")
        return 0
    finally:
        edges.stop()


def _clock(args, cfg):
    """`--at`: the clock starts there (the first project's zone) and runs at real speed; else the real clock."""
    from bot.config import project_settings
    return clock_of(args, project_settings(cfg)[0].tz, running=True)


def _wait_for_stop(stop: threading.Event) -> None:
    """Until SIGTERM (systemd / docker stop) or Ctrl-C: shut down cleanly."""
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


def web(args) -> int:
    """`reception-bot web`: the board and report pages alone (config.yaml's web: host and port; flags override)."""
    from bot.adapters.web import WebServer, make_web
    from bot.adapters.web.ops import ops_routes
    from bot.config import WebCfg
    from bot.health import Health
    logsetup.configure(os.environ, os.environ.get("LOG_LEVEL", "INFO"))
    cfg = load_config(args.config)
    conf = cfg.web or WebCfg()
    args.db_url = args.db or cfg.database                      # named by a database error, if one comes
    app = bootstrap(cfg, db_url=args.db_url, clock=_clock(args, cfg))
    host, port = args.host or conf.host, args.port or conf.port
    print(T.WEB_SERVING.format(host=host, port=port), flush=True)
    health = Health(app.engine, app.clock)          # no platform here: the database and the outbox
    WebServer(make_web(app.engine, app.projects, app.clock.now, conf.max_streams, conf.max_streams_per_board,
                       ops_routes(health)), host, port).run()
    return 0
