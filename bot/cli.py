"""reception-bot run | replay | say | state (COMMANDS.md)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from bot.clock import Clock, FakeClock, SystemClock
from bot.config import ConfigError, load_config
from bot.privacy import mask_phones
from bot.transcript import LINE, Refusal, catch_up_to, check_time, clock_of, fmt, parse_time
from handlers.messages import Incoming
from rules import texts as T
from storage.db import DatabaseProblem, explain


def _app(args, cfg, default_db: str | None, clock: Clock):
    from bot.bootstrap import bootstrap
    args.db_url = args.db or default_db or cfg.database       # named by a database error, if one comes
    app = bootstrap(cfg, db_url=args.db_url, clock=clock)
    _OPENED.append(app)
    project = args.project or app.default
    if project not in app.projects:
        raise ConfigError(T.NO_SUCH_PROJECT.format(name=project, names="、".join(app.projects)))
    return app, project


def _config(args):
    """config.yaml, loaded once, and the chosen project's time zone (transcript times are in it)."""
    from bot.config import project_settings
    cfg = load_config(args.config)
    ps = project_settings(cfg)
    return cfg, next((p for p in ps if p.name == args.project), ps[0]).tz


def _transcript(path: str, tz) -> list[tuple]:
    """(time, sender, private, text) of every line; a line that is not one, a time that is not a real
    one or lines out of order: a Refusal naming the file and the line."""
    lines = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        mt = LINE.match(raw.strip())
        if not mt:
            raise Refusal(T.CLI_BAD_LINE.format(file=path, n=n, line=raw))
        try:
            at = parse_time(mt.group(1), tz)
        except Refusal as e:
            raise Refusal(T.CLI_BAD_LINE_TIME.format(file=path, n=n, problem=e)) from None
        lines.append((at, mt.group(2).strip(), bool(mt.group(3)), mt.group(4)))
    for (a, *_), (b, *_) in zip(lines, lines[1:], strict=False):
        if b < a:
            raise Refusal(T.CLI_LINES_OUT_OF_ORDER.format(file=path, later=b, earlier=a))
    return lines


def cmd_replay(args) -> int:
    cfg, tz = _config(args)
    lines = _transcript(args.file, tz)
    until = parse_time(args.until, tz) if args.until else None     # a bad --until: refused before any work
    catch_up_to(until or (lines[-1][0] if lines else None), args.catch_up)
    start = lines[0][0] if lines else SystemClock().now().astimezone(tz)
    app, project = _app(args, cfg, "sqlite://", FakeClock(start))
    app.scheduled.continuous = True     # a transcript is a bot that never stopped: its gaps are not downtime
    last = start
    for at, sender, private, text in lines:
        check_time(app, project, at, args.catch_up)
        for o in app.run_due(at, project):
            print(fmt(o, at))
        for o in app.handle(Incoming("console", sender, text, at, private=private, project=project)):
            print(fmt(o, at))
        last = at
    if until:
        last = until
        check_time(app, project, last, args.catch_up)
        for o in app.run_due(last, project):
            print(fmt(o, last))
    app.mark_sent_until(last)
    if args.state:
        from handlers.state_view import dump
        print("=== state ===")
        print(json.dumps(dump(app.engine, app.projects[project], last), ensure_ascii=False, indent=2))
    return 0


def cmd_say(args) -> int:
    cfg, tz = _config(args)
    clock = clock_of(args, tz)
    at = clock.now().astimezone(tz)
    app, project = _app(args, cfg, None, clock)
    check_time(app, project, at, args.catch_up)
    outs = app.run_due(at, project)
    outs += app.handle(Incoming("console", args.sender, args.text, at, private=args.private, project=project))
    app.mark_sent([o.key for o in outs], at)    # marked before printed: a kill in between never prints twice
    for o in outs:
        print(fmt(o, at), flush=True)
    return 0


def cmd_state(args) -> int:
    from handlers.state_view import dump
    cfg, tz = _config(args)
    clock = clock_of(args, tz)
    at = clock.now().astimezone(tz)
    app, project = _app(args, cfg, None, clock)
    print(json.dumps(dump(app.engine, app.projects[project], at), ensure_ascii=False, indent=2))
    return 0


def cmd_link(args) -> int:
    """A one-time code that links `args.name`'s chat account (RULES §9): 6 digits, 10 minutes, one use."""
    from bot.identity import CODE_MINUTES, issue_code
    cfg, tz = _config(args)
    app, project = _app(args, cfg, None, clock_of(args, tz))
    code = issue_code(app.engine, project, args.name, app.clock.now())
    if code is None:
        print(T.LINK_NO_MEMBER.format(project=project, name=args.name), file=sys.stderr)
        return 2
    print(T.LINK_CODE.format(code=code, minutes=CODE_MINUTES, name=args.name))
    return 0


def cmd_backup(args) -> int:
    """A consistent copy of the database, safe while the bot runs (storage/backup.py)."""
    return _backup_or_restore(args, "backup")


def cmd_restore(args) -> int:
    """A backup into a fresh, empty database (never over a live one)."""
    return _backup_or_restore(args, "restore")


def _backup_or_restore(args, what: str) -> int:
    from storage import backup
    url = args.db or load_config(args.config).database
    args.db_url = url                                       # named by a database error, if one comes
    try:
        print(getattr(backup, what)(url, args.path))
    except backup.BackupProblem as e:
        raise Refusal(str(e)) from None
    return 0


def cmd_doctor(args) -> int:
    from bot.doctor import doctor
    return doctor(args)


def cmd_run(args) -> int:
    from bot.runner import run
    return run(args)


def cmd_web(args) -> int:
    from bot.runner import web
    return web(args)


ONE_SHOT = {"say", "state", "replay", "link", "backup", "restore", "doctor"}   # no thread outlives them
_OPENED: list = []                  # the apps a command opened: their databases are closed before a fast exit


COMMANDS = {"run": cmd_run, "replay": cmd_replay, "say": cmd_say, "state": cmd_state, "web": cmd_web, "link": cmd_link,
            "backup": cmd_backup, "restore": cmd_restore, "doctor": cmd_doctor}


def main(argv: list[str] | None = None, *, fast_exit: bool = False) -> int:
    """`fast_exit` (the installed program, `bot.entry`): a one-shot command that returned ends the
    process here, once its output is flushed and its databases closed, instead of in the
    interpreter's teardown of every loaded module (~0.15 s that nobody waits for)."""
    args = _parser().parse_args(argv)
    rc = _main(args)
    if fast_exit and args.cmd in ONE_SHOT:
        _exit_now(rc)
    return rc


def _exit_now(rc: int) -> None:
    import logging
    for app in _OPENED:
        app.engine.dispose()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def _main(args) -> int:
    if args.cmd != "replay" and getattr(args, "db", None) is None and os.environ.get("DATABASE_URL"):
        args.db = os.environ["DATABASE_URL"]        # a container's .env (replay stays on a fresh in-memory one)
    try:
        return COMMANDS[args.cmd](args)
    except Refusal as e:
        print(e, file=sys.stderr)
        return 2
    except Exception as e:
        line = _one_line(e, getattr(args, "db_url", None))
        if line is None:
            raise                                   # a bug: the whole traceback
        if getattr(args, "debug", False):          # masked like the logs: a statement's parameters carry phones
            print(mask_phones(traceback.format_exc()), end="", file=sys.stderr)
        print(line, file=sys.stderr)
        return 2


def _common(p: argparse.ArgumentParser, catch_up: bool = True) -> argparse.ArgumentParser:
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="出错时显示完整的 traceback")
    p.add_argument("--config", default="config.yaml")
    p.add_argument("--db", default=None, help="数据库 URL(默认取环境变量 DATABASE_URL,再取 config.yaml 的 database)")
    p.add_argument("--project", default=None)
    if catch_up:
        p.add_argument("--catch-up", action="store_true", help="允许补做超过 31 天的定时任务")
    return p


AT_RUNNING = "时钟从这个时间开始走(YYYY-MM-DD HH:MM,项目时区;用来在别的钟点试用或测试),默认现在"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="reception-bot", description="接待助手:接待轮排与客户归属")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ap.add_argument("--debug", action="store_true", help="出错时显示完整的 traceback")
    p = _common(sub.add_parser("run", help="启动机器人(无平台凭据时打开本地控制台聊天)"))
    p.add_argument("--at", default=None, help=AT_RUNNING)
    p = _common(sub.add_parser("replay", help="回放对话记录"))
    p.add_argument("file")
    p.add_argument("--until", default=None)
    p.add_argument("--state", action="store_true")
    p = _common(sub.add_parser("say", help="处理一条消息"))
    p.add_argument("--at", default=None)
    p.add_argument("--private", action="store_true")
    p.add_argument("sender")
    p.add_argument("text")
    p = _common(sub.add_parser("state", help="输出状态"), catch_up=False)
    p.add_argument("--at", default=None)
    p.add_argument("--json", action="store_true", required=True)
    p = _common(sub.add_parser("web", help="只启动看板和报表网页"), catch_up=False)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--at", default=None, help=AT_RUNNING)
    _ops_commands(sub)
    link_help = "生成一次性验证码：名单上的人（经理必须用它）私聊发「我是 姓名 验证码」绑定账号"
    p = _common(sub.add_parser("link", help=link_help), catch_up=False)
    p.add_argument("name")
    p.add_argument("--at", default=None, help="验证码按这个时间签发(YYYY-MM-DD HH:MM,默认现在)")
    return ap


def _ops_commands(sub) -> None:
    p = _common(sub.add_parser("backup", help="备份数据库到文件（机器人运行时也安全）"), catch_up=False)
    p.add_argument("path", help="备份文件（不会覆盖已有文件）")
    p = _common(sub.add_parser("restore", help="把备份恢复到一个新建的空数据库"), catch_up=False)
    p.add_argument("path", help="备份文件")
    _common(sub.add_parser("doctor", help="上线前检查：配置、数据库、平台凭据、端口、字体、时钟"), catch_up=False)


def _one_line(e: Exception, db_url) -> str | None:
    """A config or database fault in one line (the operator's mistake or outage), or None for a bug."""
    if isinstance(e, ConfigError):
        return T.CONFIG_ERROR.format(error=e)
    problem = explain(e, db_url) if db_url is not None or isinstance(e, DatabaseProblem) else None
    return T.DATABASE_ERROR.format(problem=problem) if problem else None


if __name__ == "__main__":
    sys.exit(main())
