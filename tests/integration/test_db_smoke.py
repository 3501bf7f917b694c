from bot.bootstrap import bootstrap
from bot.state import dump
from handlers.messages import Incoming
from tests.conftest import at


def test_migrations_and_a_command_work_on_both_databases(db_url, config_file):
    app = bootstrap(config_file(), db_url=db_url)
    out = app.handle(Incoming("console", "张经理", "/开班 李四 王五", at("2026-11-27 09:00")))
    assert out[-1].text.endswith("下一位:李四")
    app.handle(Incoming("console", "李四", "到访 张三 13812345678", at("2026-11-27 09:05")))
    state = dump(app, "阳光花园", at("2026-11-27 09:06"))
    assert [q["name"] for q in state["queue"]] == ["王五", "李四"]
    assert state["customers"][0]["owner"] == "李四"
