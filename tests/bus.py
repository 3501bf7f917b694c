"""One project (阳光花园, opened 2026-11-27 09:00 with 李四 王五 赵六) on a real database, told things
through `App.handle` as its group would: the shared set-up of the bus tests."""
from __future__ import annotations

from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from tests.conftest import at, fixed

P = "阳光花园"


def opened(db_url: str, config_file):
    app = bootstrap(config_file(), db_url=db_url, clock=fixed())
    say(app, "张经理", "/开班 李四 王五 赵六", "09:00")
    return app


def say(app, who: str, text: str, when: str = "09:30", sent: bool = False, **kw) -> list:
    """`who` says `text` at 2026-11-27 `when`; `sent`: its answers are marked sent, as a platform does."""
    out = app.handle(Incoming("console", who, text, at(f"2026-11-27 {when}"), project=P, **kw))
    if sent:
        app.mark_sent([o.key for o in out], at(f"2026-11-27 {when}"))
    return out
