"""Make-ups earned and used are benefit rows (no report figure comes from the change log's wording);
0014 fills them in once from the log of a database made before, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import select

from handlers import reports
from storage import models as m
from storage.db import make_engine
from storage.uow import UnitOfWork
from tests.bus import opened, say
from tests.conftest import TZ, at
from tests.integration.test_migrations import _alembic

DAY = date(2026, 11, 27)


def makeups(engine) -> dict[str, tuple[int, int]]:
    with UnitOfWork(engine, readonly=True) as uow:
        pid = uow.session.scalar(select(m.Project.id))
        rep = reports.build(uow.report_figures, pid, "阳光花园", TZ, (DAY, DAY), at("2026-11-27 23:00"))
        return {r.name: (r.makeups_earned, r.makeups_used) for r in rep.rows if r.makeups_earned or r.makeups_used}


def test_makeups_earned_and_used_come_from_rows_and_the_upgrade_fills_them_in(db_url, config_file):
    app = opened(db_url, config_file)
    say(app, "李四", "接待", "09:05")
    say(app, "李四", "非客 推销", "09:06")           # refund with a make-up: earned
    say(app, "李四", "送客", "09:10")
    say(app, "张经理", "/补接 赵六", "09:15")         # the manager's: earned
    say(app, "李四", "接待", "09:20")                # 李四's make-up used (first earned, first served)
    say(app, "赵六", "接待", "09:25")                # 赵六's used
    say(app, "王五", "接待", "09:30")
    say(app, "王五", "非客 同行", "09:31")           # earned, not used
    live = makeups(app.engine)
    assert live == {"李四": (1, 1), "赵六": (1, 1), "王五": (1, 0)}
    app.engine.dispose()
    engine = make_engine(db_url)
    _alembic(engine, "0010_wecom", command.downgrade)
    _alembic(engine, "head")
    assert makeups(engine) == live
    engine.dispose()
