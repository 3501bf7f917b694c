"""Platform accounts and group chats: 我是 姓名, /绑定 项目名, unknown senders and unbound groups."""
from __future__ import annotations

import pytest

from bot.bootstrap import bootstrap
from bot.identity import issue_code
from handlers.messages import Incoming
from tests.conftest import at, fixed

T = at("2026-11-27 09:30")


@pytest.fixture
def app(db_url, config_file):
    return bootstrap(config_file(), db_url=db_url, clock=fixed())


def feishu(app, sender, text, chat="oc_new", private=False):
    return app.handle(Incoming("feishu", sender, text, T, chat_id=None if private else chat, private=private))


def manager_links(app, account="ou_boss"):
    code = issue_code(app.engine, "阳光花园", "张经理", T)
    return feishu(app, account, f"我是 张经理 {code}", private=True)


def salesperson_links(app, account, name, chat="oc_new", private=True):
    feishu(app, account, f"我是 {name}", chat=chat, private=private)
    return feishu(app, "ou_boss", f"/确认 {name}", private=True)


def test_an_unbound_group_explains_itself_to_commands_and_ignores_chat(app):
    assert feishu(app, "ou_x", "大家好") == []
    out = feishu(app, "ou_x", "签到")
    assert len(out) == 1 and "绑定" in out[0].text


def test_a_manager_links_the_account_then_binds_the_group(app):
    assert "只有" in feishu(app, "ou_boss", "/绑定 阳光花园")[0].text          # not known yet
    assert "已用验证码绑定" in manager_links(app)[0].text
    assert "没有叫" in feishu(app, "ou_boss", "/绑定 月亮湾")[0].text
    assert "已绑定" in feishu(app, "ou_boss", "/绑定 阳光花园")[0].text
    assert app.chats("feishu", "阳光花园") == ["oc_new"]
    assert app.user_id("feishu", "阳光花园", "张经理") == "ou_boss"


def test_a_salesperson_cannot_bind_a_group(app):
    manager_links(app)
    salesperson_links(app, "ou_li", "李四")
    assert "只有" in feishu(app, "ou_li", "/绑定 阳光花园")[0].text
    assert app.chats("feishu", "阳光花园") == []


def test_in_a_bound_group_an_unknown_sender_is_asked_who_they_are_and_a_taken_name_is_refused(app):
    manager_links(app)
    feishu(app, "ou_boss", "/绑定 阳光花园")
    assert "我是" in feishu(app, "ou_li", "签到")[0].text
    assert "等经理确认" in feishu(app, "ou_li", "我是 李四")[0].text
    assert "已绑定" in feishu(app, "ou_boss", "/确认 李四")[0].text
    assert "等经理确认" in feishu(app, "ou_fake", "我是 李四")[0].text     # a taken name waits for a manager
    assert "没有「孙悟空」" in feishu(app, "ou_fake", "我是 孙悟空")[0].text
    out = feishu(app, "ou_boss", "/开班 李四 王五")
    assert out[0].text.endswith("下一位:李四") and out[0].mentions == ("李四",)
    out = feishu(app, "ou_li", "到访 张三 13812345678")
    assert "138****5678" in out[0].text and out[0].to is None


def test_a_private_message_from_a_known_member_is_answered_privately_by_name(app):
    manager_links(app)
    feishu(app, "ou_boss", "/绑定 阳光花园")
    salesperson_links(app, "ou_li", "李四")
    feishu(app, "ou_boss", "/开班 李四 王五")
    feishu(app, "ou_li", "到访 张三 13812345678")
    out = feishu(app, "ou_li", "我的客户", private=True)
    assert out[0].to == "李四" and "13812345678" in out[0].text


def console(app, sender, text):
    return app.handle(Incoming("console", sender, text, T, project="阳光花园"))


def test_on_the_console_iam_and_bind_say_the_sender_is_already_known(app):
    (out,) = console(app, "李四", "我是 李四")
    assert out.text == "这里已按发送人「李四」识别，无需「我是」。"
    assert "无需「我是」" in console(app, "李四", "我是 马丽 123456")[0].text
    assert "无需 /绑定" in console(app, "张经理", "/绑定 阳光花园")[0].text
    assert "只有经理" in console(app, "李四", "/绑定 阳光花园")[0].text
    assert app.user_id("feishu", "阳光花园", "李四") is None


def test_say_and_replay_answer_iam_and_bind_without_an_error(tmp_path, config_file, capsys):
    from bot.cli import main
    cfg, db = str(config_file()), f"sqlite:///{tmp_path}/r.db"
    assert main(["say", "--config", cfg, "--db", db, "--at", "2026-11-27 09:30", "马丽", "我是 马丽"]) == 0
    assert "这里已按发送人「马丽」识别，无需「我是」。" in capsys.readouterr().out
    script = tmp_path / "t.txt"
    script.write_text("[2026-11-27 09:00] 张经理: /绑定 阳光花园\n[2026-11-27 09:01] 李四 (私聊): 我是 李四\n",
                      encoding="utf-8")
    assert main(["replay", "--config", cfg, str(script)]) == 0
    out = capsys.readouterr().out
    assert "无需 /绑定" in out and "→ 李四(私聊): 这里已按发送人「李四」识别" in out and "抱歉" not in out


def test_link_prints_a_six_digit_code_that_links_a_manager_once(tmp_path, config_file, capsys):
    from bot.cli import main
    cfg, db = str(config_file()), f"sqlite:///{tmp_path}/r.db"
    assert main(["link", "--config", cfg, "--db", db, "--at", "2026-12-02 10:00", "张经理"]) == 0
    first, second = capsys.readouterr().out.splitlines()
    code = first.split("：")[1][:6]
    assert code.isdigit() and f"我是 张经理 {code}" in second
    app = bootstrap(cfg, db_url=db, clock=fixed())
    now = Incoming("feishu", "ou_boss", f"我是 张经理 {code}", at("2026-12-02 10:09"), private=True)
    assert "已用验证码绑定" in app.handle(now)[0].text
    assert app.user_id("feishu", "阳光花园", "张经理") == "ou_boss"
    assert main(["link", "--config", cfg, "--db", db, "孙悟空"]) == 2
    assert "没有「孙悟空」" in capsys.readouterr().err


def test_a_repeated_claim_does_not_notify_the_managers_again_and_undo_unlinks_a_confirmation(app):
    manager_links(app)
    feishu(app, "ou_boss", "/绑定 阳光花园")
    first = feishu(app, "ou_wang", "我是 王五", private=True)
    assert [o.to for o in first[1:]] == ["张经理"]
    assert len(feishu(app, "ou_wang", "我是 王五", private=True)) == 1
    feishu(app, "ou_boss", "/确认 王五")
    assert app.user_id("feishu", "阳光花园", "王五") == "ou_wang"
    assert "撤销" in feishu(app, "ou_boss", "/撤销")[0].text
    assert app.user_id("feishu", "阳光花园", "王五") is None


def test_one_account_speaks_for_one_name_in_a_project(app):
    manager_links(app)
    salesperson_links(app, "ou_li", "李四")
    salesperson_links(app, "ou_li", "王五")
    assert app.user_id("feishu", "阳光花园", "王五") == "ou_li"
    assert app.user_id("feishu", "阳光花园", "李四") is None


# ---- claims and codes cannot be raced or voided ---------------------------------------------
def named(app, sender, display, text, private=True):
    return app.handle(Incoming("feishu", sender, text, T, chat_id=None if private else "oc_new", private=private,
                               sender_name=display))


def waiting(app, name):
    from storage.uow import UnitOfWork
    with UnitOfWork(app.engine, readonly=True) as uow:
        return [c.account for c in uow.links.claims_for(uow.projects.id_of("阳光花园"), name)]


def test_a_second_claim_to_a_waiting_name_does_not_replace_the_first_and_the_managers_hear_of_both(app):
    manager_links(app)
    first = named(app, "ou_first", "王五", "我是 王五")
    assert [o.to for o in first[1:]] == ["张经理"] and "「王五」的飞书账号说自己是「王五」" in first[1].text
    second = named(app, "ou_rival", "小王", "我是 王五")
    assert "已有人申请" in second[0].text
    assert [o.to for o in second[1:]] == ["张经理"]
    assert "「小王」的" in second[1].text and "先申请的「王五」的" in second[1].text
    assert waiting(app, "王五") == ["ou_first"]                         # the first claim stands
    feishu(app, "ou_boss", "/确认 王五", private=True)
    assert app.user_id("feishu", "阳光花园", "王五") == "ou_first"


def test_a_wrong_code_said_in_a_group_voids_nothing_the_right_one_is_burnt(app):
    code = issue_code(app.engine, "阳光花园", "张经理", T)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "私聊" in feishu(app, "ou_rival", f"我是 张经理 {wrong}")[0].text
    assert "已用验证码绑定" in feishu(app, "ou_boss", f"我是 张经理 {code}", private=True)[0].text
    shown = issue_code(app.engine, "阳光花园", "张经理", T)
    feishu(app, "ou_copier", f"我是 张经理 {shown}")                     # the right code, in a group: burnt
    assert "不对" in feishu(app, "ou_other", f"我是 张经理 {shown}", private=True)[0].text


def test_guessing_is_limited_per_account_whatever_code_it_aims_at(app):
    issue_code(app.engine, "阳光花园", "张经理", T)
    for n in range(5):
        assert "不对" in feishu(app, "ou_guess", f"我是 张经理 {n:06d}", private=True)[0].text
    fresh = issue_code(app.engine, "阳光花园", "张经理", T)                # even a fresh, right code
    assert "太多次" in feishu(app, "ou_guess", f"我是 张经理 {fresh}", private=True)[0].text
    assert app.user_id("feishu", "阳光花园", "张经理") is None
    assert "已用验证码绑定" in feishu(app, "ou_boss", f"我是 张经理 {fresh}", private=True)[0].text


GUESSER = """
import sys
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from handlers.messages import Incoming
from tests.conftest import at
cfg, url, n, start = sys.argv[1:5]
app = bootstrap(cfg, db_url=url, clock=FakeClock(at("2026-11-27 09:00")))
sys.stdin.readline()                                    # the start line: every process guesses at once
for i in range(3):
    app.handle(Incoming("feishu", f"ou_guess{n}", f"我是 张经理 {int(start) + i:06d}", at("2026-11-27 09:31"),
                        private=True))
"""


def test_sixteen_processes_guessing_at_once_cannot_pass_the_cap_of_five(pg_url, config_file):
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.waits import patience
    app = bootstrap(config_file(), db_url=pg_url, clock=fixed())
    code = issue_code(app.engine, "阳光花园", "张经理", T)
    starts = [(int(code) + 1 + 3 * n) % (10**6 - 3) for n in range(16)]     # 48 wrong codes
    procs = [subprocess.Popen([sys.executable, "-c", GUESSER, str(config_file()), pg_url, str(n), str(s)],
                              cwd=ROOT, stdin=subprocess.PIPE, text=True) for n, s in enumerate(starts)]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate(timeout=patience(120))
        assert p.returncode == 0
    from sqlalchemy import select

    from storage import models as m
    from storage.uow import UnitOfWork
    with UnitOfWork(app.engine, readonly=True) as uow:
        [(tries, used)] = uow.session.execute(select(m.LinkCode.tries, m.LinkCode.used_at)).all()
    assert tries == 5 and used is not None                                  # no try was lost
    assert "不对" in feishu(app, "ou_boss", f"我是 张经理 {code}", private=True)[0].text    # burnt for good
