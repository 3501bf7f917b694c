"""`reception-bot run`: platform adapters when credentials are set, else the local console chat.

One APScheduler 3 job per process sweeps the database for due work (the database,
not the job store, knows what is due), so several processes may run side by side.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.bootstrap import bootstrap
from bot.cli import LINE, check_catch_up, fmt
from bot.config import load_config
from handlers.messages import Incoming, Outgoing
from rules import texts as T

log = logging.getLogger("reception")
SWEEP_SECONDS = 30


def settle(app, msgs: list[Outgoing], deliver, now: datetime) -> None:
    """Send `msgs` (all in the outbox) and mark each sent, or failed: sent again later, same key.
    `deliver` returns the keys it could not send (raising: none was sent)."""
    try:
        failed = set(deliver(msgs) or ())
    except Exception:
        log.exception("sending %d message(s) failed; they are sent again later", len(msgs))
        failed = {o.key for o in msgs}
    app.mark_sent([o.key for o in msgs if o.key not in failed], now)
    app.send_failed(sorted(failed), now)


def sweep_once(app, deliver, now: datetime) -> list[Outgoing]:
    """One sweep: what is due to be sent again (same keys), then the due work; sent and marked."""
    msgs = app.reclaim_unsent(now) + app.run_due(now)
    if msgs:
        settle(app, msgs, deliver, now)
    return msgs


def start_scheduler(app, deliver) -> BackgroundScheduler:
    """Every SWEEP_SECONDS: re-send what is due again, run due work, deliver it and mark it
    (coalesced, never overlapping)."""
    def sweep():
        try:
            sweep_once(app, deliver, datetime.now(UTC))
        except Exception:
            log.exception("scheduled sweep failed; it runs again in %s s", SWEEP_SECONDS)

    sched = BackgroundScheduler(timezone=UTC)
    sched.add_job(sweep, "interval", seconds=SWEEP_SECONDS, coalesce=True, max_instances=1,
                  misfire_grace_time=None, next_run_time=datetime.now(UTC), id="sweep")
    sched.start()
    return sched


def run(args) -> int:
    platform = bool(os.environ.get("FEISHU_APP_ID") or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT"))
    # the console chat is for people: only warnings between the replies
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO" if platform else "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config(args.config)
    feishu_settings = None
    if os.environ.get("FEISHU_APP_ID") and os.environ.get("FEISHU_APP_SECRET"):
        from bot.adapters.feishu.adapter import FeishuSettings
        feishu_settings = FeishuSettings.from_env(cfg.feishu)   # a missing secret stops us before the database
    args.db_url = args.db or cfg.database                      # named by a database error, if one comes
    app = bootstrap(cfg, db_url=args.db_url)
    for name in app.projects:                       # a catch-up over 31 days only when asked
        check_catch_up(app, name, datetime.now(UTC), getattr(args, "catch_up", False))
    adapters, stoppers = [], start_web(app, cfg)
    if feishu_settings is not None:
        from bot.adapters.feishu.adapter import FeishuAdapter
        feishu = FeishuAdapter(app, feishu_settings)
        feishu.start()

        def feishu_send(msgs: list[Outgoing]) -> set[str]:
            return feishu.send_and_wait(msgs, 120)  # queued (rate limits): wait before marking sent

        adapters.append(("feishu", feishu_send))
        stoppers.append(feishu.stop)
        log.info("Feishu adapter started")
    if os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT"):
        wechat, thread = _start_wechat(app, cfg)
        adapters.append(("wechat", wechat.send))
        stoppers.append(lambda: (wechat.stop_from_thread(), thread.join(10)))
    if not adapters:
        try:
            return console(app, args.project or app.default)
        finally:
            for stopper in stoppers:
                stopper()

    def deliver(msgs: list[Outgoing]) -> set[str]:
        # one platform's outage must not hold back the others; a reply goes back through its own
        failed: set[str] = set()
        for name, send in adapters:
            mine = [o for o in msgs if o.platform in (None, name)]
            try:
                failed |= set(send(mine) or ()) if mine else set()
            except Exception:
                log.exception("sending %d message(s) through %s failed", len(mine), name)
                failed |= {o.key for o in mine}
        return failed

    sched = start_scheduler(app, deliver)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())      # systemd / docker stop: shut down cleanly
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping")
        sched.shutdown(wait=True)
        for stopper in stoppers:
            stopper()
    return 0


def start_web(app, cfg) -> list:
    """The board and report pages in this process when config.yaml has `web:`; their stopper."""
    if cfg.web is None:
        return []
    from bot.adapters.web import make_web, serve_in_thread
    server = serve_in_thread(make_web(app.engine, app.projects), cfg.web.host, cfg.web.port)
    log.info("board pages on http://%s:%s", cfg.web.host, cfg.web.port)

    return [server.stop]


def web(args) -> int:
    """`reception-bot web`: the board and report pages alone (config.yaml's web: host and port; flags override)."""
    from bot.adapters.web import WebServer, make_web
    from bot.config import WebCfg
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config(args.config)
    conf = cfg.web or WebCfg()
    args.db_url = args.db or cfg.database                      # named by a database error, if one comes
    app = bootstrap(cfg, db_url=args.db_url)
    host, port = args.host or conf.host, args.port or conf.port
    print(T.WEB_SERVING.format(host=host, port=port), flush=True)
    WebServer(make_web(app.engine, app.projects), host, port).run()
    return 0


def _start_wechat(app, cfg):
    from bot.adapters.wechat.adapter import WechatAdapter, WechatSettings
    adapter = WechatAdapter(app, WechatSettings.from_env(cfg.wechat))
    t = threading.Thread(target=lambda: asyncio.run(adapter.run()), name="wechat", daemon=True)
    t.start()
    log.info("WeChat adapter started")
    return adapter, t


def console(app, project: str) -> int:
    """The local console chat: type `李四: 到访 张三 13812345678` and see the replies."""
    tz = app.projects[project].tz
    names = "、".join(app.projects[project].salespeople)
    print(T.CONSOLE_HEAD.format(project=project, db=app.engine.url.render_as_string()))
    print(T.CONSOLE_HOW)
    print(T.CONSOLE_WHO.format(names=names, managers="、".join(app.projects[project].managers)))
    ps, now = app.projects[project], datetime.now(tz).time()
    if not ps.shift_start <= now < ps.shift_end:
        print(T.CONSOLE_OFF_SHIFT.format(start=f"{ps.shift_start:%H:%M}", end=f"{ps.shift_end:%H:%M}"))
    lock = threading.Lock()

    def show(msgs) -> set[str]:
        with lock:
            for o in msgs:
                print(fmt(o, datetime.now(tz)))
            sys.stdout.flush()
        return set()

    sched = start_scheduler(app, show)
    last = None
    try:
        for raw in sys.stdin:
            line = raw.strip()
            if line in ("exit", "quit", "退出"):
                break
            if not line:
                continue
            mt = LINE.match(f"[2000-01-01 00:00] {line}")
            if mt:
                last, private, text = mt.group(2).strip(), bool(mt.group(3)), mt.group(4)
            elif last:
                private, text = False, line
            else:
                print(T.CONSOLE_FORMAT)
                continue
            now = datetime.now(tz)
            settle(app, app.handle(Incoming("console", last, text, now, private=private, project=project)), show, now)
    except KeyboardInterrupt:
        pass
    finally:
        sched.shutdown(wait=False)
    return 0
