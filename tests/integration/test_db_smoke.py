from bot.bootstrap import bootstrap
from handlers.messages import Incoming
from handlers.state_view import dump
from tests.conftest import at, fixed


def test_migrations_and_a_command_work_on_both_databases(db_url, config_file):
    app = bootstrap(config_file(), db_url=db_url, clock=fixed())
    out = app.handle(Incoming("console", "张经理", "/开班 李四 王五", at("2026-11-27 09:00")))
    assert out[-1].text.endswith("下一位:李四")
    app.handle(Incoming("console", "李四", "到访 张三 13812345678", at("2026-11-27 09:05")))
    state = dump(app.engine, app.projects["阳光花园"], at("2026-11-27 09:06"))
    assert [q["name"] for q in state["queue"]] == ["王五", "李四"]
    assert state["customers"][0]["owner"] == "李四"


def _alembic(engine, action, revision: str) -> None:
    from alembic.config import Config

    from storage.db import MIGRATIONS
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        action(cfg, revision)


def test_the_0006_migration_drops_projects_version_keeping_the_projects_and_goes_back(db_url):
    """projects.version was written on every command and never read (issue 12): 0006 drops it on an
    existing database without touching the rows, and its downgrade puts the column back."""
    from alembic import command
    from sqlalchemy import inspect, text

    from storage.db import make_engine
    engine = make_engine(db_url)
    _alembic(engine, command.upgrade, "0005_outbox")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (name, state, version) VALUES ('甲', '{}', 7)"))
    _alembic(engine, command.upgrade, "head")
    assert "version" not in {c["name"] for c in inspect(engine).get_columns("projects")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM projects")).scalars().all() == ["甲"]
    _alembic(engine, command.downgrade, "0005_outbox")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, version FROM projects")).all() == [("甲", 0)]
    engine.dispose()
