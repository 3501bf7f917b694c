"""`reception-bot doctor`: is this deployment ready to go live? One line per check, exit 1 on any failure.

The config is valid; the database answers and its schema is current; each platform whose credentials
are set accepts them (Feishu: a tenant token; WeChat: the puppet service answers on its port); the web
port is free; a CJK font is there for the charts; this machine's clock agrees with the database's.
Nothing is changed: no migration, no message.
"""
from __future__ import annotations

import json
import os
import socket
import urllib.request
from collections.abc import Callable

from bot.clock import SystemClock
from bot.config import Config, load_config
from rules import texts as T

CLOCK_SKEW_S = 30.0
Check = tuple[str, Callable[[], str]]       # (what, run → detail; raises Failed)


class Failed(Exception):
    """A check failed; the message says why and what to do."""


def doctor(args, env=None, out=print) -> int:
    env = os.environ if env is None else env
    try:
        cfg = load_config(args.config)
    except Exception as e:
        out(T.DOCTOR_FAIL.format(what=T.DOCTOR_CONFIG, why=e))
        return 1
    out(T.DOCTOR_OK.format(what=T.DOCTOR_CONFIG, detail=args.config))
    failed = 0
    for what, run in checks(cfg, args.db or cfg.database, env):
        try:
            out(T.DOCTOR_OK.format(what=what, detail=run()))
        except Exception as e:
            failed += 1
            out(T.DOCTOR_FAIL.format(what=what, why=e))
    return 1 if failed else 0


def checks(cfg: Config, url: str, env) -> list[Check]:
    found: list[Check] = [(T.DOCTOR_DATABASE, lambda: _database(url)), (T.DOCTOR_CLOCK, lambda: _clock(url))]
    if env.get("FEISHU_APP_ID"):
        found.append((T.DOCTOR_FEISHU, lambda: _feishu(cfg, env)))
    if env.get("WECHATY_PUPPET_SERVICE_ENDPOINT"):
        found.append((T.DOCTOR_WECHAT, lambda: _reachable(env["WECHATY_PUPPET_SERVICE_ENDPOINT"])))
    if not (env.get("FEISHU_APP_ID") or env.get("WECHATY_PUPPET_SERVICE_ENDPOINT")):
        found.append((T.DOCTOR_PLATFORMS, lambda: T.DOCTOR_NO_PLATFORM))
    host, port = (cfg.web.host, cfg.web.port) if cfg.web else (cfg.ops.host, cfg.ops.port)
    found += [(T.DOCTOR_PORT, lambda: _port_free(host, port)), (T.DOCTOR_FONT, lambda: _font(env))]
    return found


def _database(url: str) -> str:
    from storage.db import explain, make_engine, schema_status
    engine = make_engine(url)
    try:
        current, head = schema_status(engine)
    except Exception as e:
        raise Failed(explain(e, url) or e) from None
    finally:
        engine.dispose()
    if current != {head}:
        raise Failed(T.DOCTOR_SCHEMA_OLD.format(current="、".join(sorted(current)) or T.DOCTOR_EMPTY, head=head))
    return T.DOCTOR_SCHEMA_OK.format(head=head)


def _clock(url: str) -> str:
    from storage.db import database_time, explain, make_engine
    engine = make_engine(url)
    try:
        skew = (SystemClock().now() - database_time(engine)).total_seconds()
    except Exception as e:
        raise Failed(explain(e, url) or e) from None
    finally:
        engine.dispose()
    if abs(skew) > CLOCK_SKEW_S:
        raise Failed(T.DOCTOR_CLOCK_SKEW.format(skew=skew, limit=CLOCK_SKEW_S))
    return T.DOCTOR_CLOCK_OK.format(skew=skew)


def _feishu(cfg: Config, env) -> str:
    """The app id and secret get a tenant token (the first call every Feishu API needs)."""
    from bot.bootstrap import feishu_settings
    s = feishu_settings(cfg, env)
    body = json.dumps({"app_id": s.app_id, "app_secret": s.app_secret}).encode()
    req = urllib.request.Request(s.domain + "/open-apis/auth/v3/tenant_access_token/internal", body,
                                 {"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = json.loads(r.read())
    except Exception as e:
        raise Failed(T.DOCTOR_UNREACHABLE.format(where=s.domain, why=e)) from None
    if answer.get("code") != 0:
        raise Failed(T.DOCTOR_FEISHU_REFUSED.format(code=answer.get("code"), msg=answer.get("msg")))
    return T.DOCTOR_FEISHU_OK.format(app_id=s.app_id, domain=s.domain)


def _reachable(endpoint: str) -> str:
    host, _, port = endpoint.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5):
            return T.DOCTOR_WECHAT_OK.format(endpoint=endpoint)
    except (OSError, ValueError) as e:
        raise Failed(T.DOCTOR_UNREACHABLE.format(where=endpoint, why=e)) from None


def _port_free(host: str, port: int) -> str:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise Failed(T.DOCTOR_PORT_TAKEN.format(host=host, port=port, why=e.strerror)) from None
    return f"{host}:{port}"


def _font(env) -> str:
    from bot.bootstrap import chart_font
    return chart_font(env)
