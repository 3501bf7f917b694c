"""Column reads on the session's connection (storage/repos/results.columns, issue 23) see what the
transaction changed and has not flushed yet, as the session's own execution did with its autoflush."""
from __future__ import annotations

from datetime import date, timedelta

from rules.enums import Category
from storage import models as m
from storage.db import make_engine, migrate
from storage.uow import Units
from tests.conftest import at

D = date(2026, 11, 27)
T0 = at("2026-11-27 09:00")


def test_unflushed_changes_are_in_the_columns_read(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    with Units(engine)() as uow:
        p = uow.projects.add(m.Project(name="阳光花园", state={}, next_open_at=T0, next_summary_at=T0))
        uow.session.add(m.Reception(project_id=p.id, day=D, member="甲", category=Category.NEW, counted_for="甲",
                                    started_at=T0, nudge_at=T0 + timedelta(hours=2)))        # pending, not flushed
        facts = uow.receptions.facts_of_day(p.id, D)
        assert facts.counted == {"甲": 1} and list(facts.open) == ["甲"]
        assert uow.projects.earliest_reminders(p.id)[1] == T0 + timedelta(hours=2)
        uow.projects.bind("feishu", "oc_1", p.id)                                           # pending too
        assert uow.projects.name_of_chat("feishu", "oc_1") == "阳光花园"
    engine.dispose()
