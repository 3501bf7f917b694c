"""Text → command (COMMANDS.md §Parsing): table-driven, ugly input included, plus properties."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parser import TABLE, Unknown, Usage, normalize, parse
from handlers import commands as c
from rules.customers import normalize_phone

PHONE = "13812345678"


def cmd(text):
    got = parse(text)
    assert got is not None, f"{text!r} should be a command"
    return got[1]


@pytest.mark.parametrize("text, expected", [
    ("签到", c.SignIn()),
    ("/签到", c.SignIn()),
    ("／签到", c.SignIn()),
    ("  签到  ", c.SignIn()),
    ("@接待助手 签到", c.SignIn()),
    ("@接待助手　/签到", c.SignIn()),
    ("签退", c.SignOut()),
    ("请假", c.Leave()),
    ("暂离 取快递", c.StepOut("取快递")),
    ("暂离", c.StepOut("")),
    ("外出 送合同 到银行", c.GoOut("送合同 到银行")),
    ("回来", c.Back()),
    ("接待", c.Receive()),
    ("来客", c.Receive()),
    ("/接待", c.Receive()),
    ("送客", c.SeeOff()),
    ("送客 张三", c.SeeOff("张三")),
    ("非客 同行", c.NonBuyer("同行")),
    ("非客 问路", c.NonBuyer("问路")),
    ("轮排", c.Board()),
    ("排队", c.Board()),
    ("下一位", c.Board()),
    ("帮助", c.HelpText()),
    ("我的客户", c.MyCustomers()),
    ("查客 张三", c.Lookup("张三")),
    ("查客 138 1234 5678", c.Lookup(PHONE)),
    ("跟进 13812345678 电话沟通 周六来看样板间", c.FollowUp(PHONE, "电话沟通 周六来看样板间")),
    ("跟进 张三 电话沟通", c.FollowUp("张三", "电话沟通")),
    ("申诉 13812345678 张三是我先接待的", c.Appeal(PHONE, "张三是我先接待的")),
    ("代接 13812345678", c.HelpReceive(PHONE)),
    ("代接 138 1234 5678", c.HelpReceive(PHONE)),
    ("/开班", c.OpenDay(())),
    ("/开班 李四 王五 赵六", c.OpenDay(("李四", "王五", "赵六"))),
    ("/开班  @李四   @王五", c.OpenDay(("李四", "王五"))),
    ("/顺序 王五 李四", c.SetOrder(("王五", "李四"))),
    ("/补接 赵六", c.GiveMakeup("赵六")),
    ("/跳过 李四", c.Skip("李四", "")),
    ("／跳过　李四　没打招呼", c.Skip("李四", "没打招呼")),
    ("/跳过 @李四", c.Skip("李四", "")),
    ("/指派 王五", c.Assign("王五")),
    ("/批准 王五", c.Approve("王五")),
    ("/核实 13812345678 同一人", c.Verify(PHONE, True)),
    ("/核实 13812345678 不同人", c.Verify(PHONE, False)),
    ("/裁定 13812345678 归 李四", c.Decide(PHONE, ("李四",))),
    ("/裁定 13812345678 归 李四 王五", c.Decide(PHONE, ("李四", "王五"))),
    ("/释放 13812345678", c.Release(PHONE)),
    ("/撤销", c.Undo()),
    ("/记录", c.ShowLog("")),
    ("/记录 李四", c.ShowLog("李四")),
    ("/日报", c.DailySummary()),
    ("/导出 2026-11-01 2026-11-30", c.Export("2026-11-01", "2026-11-30")),
    ("/成员 添加 孙八", c.Roster("添加", "孙八")),
    ("/成员 经理 李四", c.Roster("经理", "李四")),
])
def test_commands(text, expected):
    assert cmd(text) == expected


@pytest.mark.parametrize("text", [
    "到访 张三 13812345678",
    "/到访 张三 13812345678",
    "到访 张三 138 1234 5678",
    "到访 张三 138-1234-5678",
    "到访 张三 +86 13812345678",
    "到访 张三 +8613812345678",
    "到访 张三 +86 138 1234 5678",
    "到访　张三　１３８１２３４５６７８",
    "到访  张三    13812345678  ",
    "@接待助手 到访 张三 13812345678",
    "到访张三 13812345678",
])
def test_visit_phone_in_any_written_form(text):
    v = cmd(text)
    assert isinstance(v, c.Visit)
    assert v.name == "张三"
    assert normalize_phone(v.phone) == PHONE
    assert (v.named, v.referrer, v.note) == (False, None, "")


@pytest.mark.parametrize("text", ["/核实 138-1234-5678 不同人", "/释放 +86 138 1234 5678",
                                  "申诉 138 1234 5678 我先接待的"])
def test_phones_of_other_commands_in_any_written_form(text):
    assert normalize_phone(cmd(text).phone) == PHONE


def test_visit_with_named_option():
    v = cmd("到访 张三 13812345678 点名")
    assert v.named is True and v.referrer is None


def test_visit_brought_by_an_existing_customer_with_note():
    v = cmd("到访 张三 +86 138-1234-5678 点名 带访 139 0000 1111 周末再来")
    assert normalize_phone(v.phone) == PHONE
    assert v.named is True
    assert normalize_phone(v.referrer) == "13900001111"
    assert v.note == "周末再来"


def test_visit_note_without_options():
    v = cmd("到访 张三 13812345678 想看三居室")
    assert v.note == "想看三居室" and not v.named


@pytest.mark.parametrize("text, units, relation, note", [
    ("成交 张三 13812345678", 1, "", ""),
    ("成交 张三 13812345678 1套", 1, "", ""),
    ("成交 张三 13812345678 3套", 3, "", ""),
    ("成交 张三 138 1234 5678 ３套", 3, "", ""),
    ("成交 张三 13812345678 2台", 2, "", ""),
    ("成交 李梅 13812345678 1套 配偶", 1, "配偶", ""),
    ("成交 李梅 13812345678 首付三成 妻子", 1, "配偶", "首付三成"),   # after 妻子: the registered customer
    ("成交 张大山 13812345678 2套 父亲", 2, "父母", ""),
])
def test_deal(text, units, relation, note):
    d = cmd(text)
    assert isinstance(d, c.RecordDeal)
    assert normalize_phone(d.phone) == PHONE
    assert (d.units, d.relation, d.note) == (units, relation, note)


@pytest.mark.parametrize("text, verb", [
    ("到访", "到访"),
    ("到访 张三", "到访"),
    ("到访 张三 带访", "到访"),
    ("到访 张三 13812345678 带访", "到访"),
    ("成交 张三", "成交"),
    ("成交 张三 13812345678 0套", "成交"),
    ("跟进 13812345678", "跟进"),
    ("申诉 13812345678", "申诉"),
    ("代接", "代接"),
    ("代接 张三", "代接"),
    ("非客", "非客"),
    ("非客 同行 市调", "非客"),
    ("查客", "查客"),
    ("/补接", "补接"),
    ("/补接 李四 王五", "补接"),
    ("/跳过", "跳过"),
    ("/指派", "指派"),
    ("/批准", "批准"),
    ("/核实 13812345678", "核实"),
    ("/核实 13812345678 也许", "核实"),
    ("/裁定 13812345678", "裁定"),
    ("/裁定 13812345678 归 李四 王五 赵六", "裁定"),
    ("/裁定 13812345678 归 李四 李四", "裁定"),
    ("/释放", "释放"),
    ("/顺序", "顺序"),
    ("/开班 李四 李四", "开班"),
    ("/导出 上个月", "导出"),
    ("/成员 删除 李四", "成员"),
    ("/记录 李四 王五", "记录"),
])
def test_wrong_arguments_give_the_usage_line(text, verb):
    with pytest.raises(Usage) as e:
        parse(text)
    assert verb in e.value.verb.words
    assert verb in e.value.verb.usage


@pytest.mark.parametrize("text, suggestion", [
    ("/跳锅 李四", "跳过"),
    ("/开半", "开班"),
    ("/撤消", "撤销"),
    ("/我的客", "我的客户"),
    ("/轮牌", "轮排"),
])
def test_unknown_slash_word_suggests_the_closest_command(text, suggestion):
    with pytest.raises(Unknown) as e:
        parse(text)
    assert e.value.suggestion == suggestion


def test_unknown_slash_word_without_anything_close():
    with pytest.raises(Unknown) as e:
        parse("/xyz")
    assert e.value.word == "xyz" and e.value.suggestion is None


@pytest.mark.parametrize("text", [
    "", "   ", "大家早上好", "接待了一位客户", "今天到访的人好多", "成交了!恭喜", "hello",
    "@李四 你下午在吗", "签到表放哪了", "送客户去停车场了", "/",
])
def test_ordinary_chat_is_ignored(text):
    assert parse(text) is None


@pytest.mark.parametrize("raw, normal", [
    ("／跳过　李四", "/跳过 李四"),
    ("到访  张三 \t １３８１２３４５６７８", "到访 张三 13812345678"),
    ("@接待助手 @李四 签到", "@李四 签到"),     # addressed to 李四: a colleague's mention stays
    ("@接待助手签到", "签到"),
    ("ＡＢＣ", "ABC"),
    ("@接待助手", ""),
])
def test_normalize(raw, normal):
    assert normalize(raw) == normal


def test_every_command_word_is_unique_and_has_a_usage_line():
    verbs = {id(v): v for v in TABLE.values()}.values()
    assert all(v.usage for v in verbs)
    words = [w for v in verbs for w in v.words]
    assert len(words) == len(set(words))


# ---- properties ---------------------------------------------------------------------------------
WORDS = st.sampled_from(sorted(TABLE) + ["/" + w for w in TABLE] + ["点名", "带访", "3套", "配偶", "@李四"])
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(WORDS, st.text(max_size=8), st.from_regex(r"\+?[\d\- ]{1,15}", fullmatch=True)),
             max_size=8).map(" ".join),
)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_parse_raises_only_usage_or_unknown(text):
    try:
        parse(text)
    except (Usage, Unknown):
        pass


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


MOBILE = st.builds(lambda p, rest: p + rest, st.sampled_from([f"1{d}" for d in "3456789"]),
                   st.from_regex(r"[0-9]{9}", fullmatch=True))


@st.composite
def written(draw, phone):
    out = ""
    for ch in phone:
        out += ch + draw(st.sampled_from(["", "", "", " ", "-"]))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-"]))
    return prefix + out.rstrip(" -")


@settings(max_examples=120, deadline=None)
@given(st.data(), MOBILE)
def test_a_mobile_written_with_spaces_dashes_or_86_normalises_to_itself(data, phone):
    assert normalize_phone(data.draw(written(phone))) == phone


@settings(max_examples=120, deadline=None)
@given(st.data(), MOBILE)
def test_visit_accepts_a_mobile_written_with_spaces_dashes_or_86(data, phone):
    text = data.draw(written(phone))
    v = cmd(f"到访 张三 {text}")
    assert v.name == "张三"
    assert normalize_phone(v.phone) == phone


def test_confirm_is_a_command_only_with_the_slash_because_it_is_a_common_chat_word():
    assert parse("确认") is None and parse("确认 王五") is None
    assert parse("/确认 王五")[1] == c.Confirm("王五")
    assert parse("／确认 @王五")[1] == c.Confirm("王五")
    with pytest.raises(Usage):
        parse("/确认")


def test_iam_takes_an_optional_six_digit_code():
    assert parse("我是 刘经理")[1] == c.WhoAmI("刘经理")
    assert parse("我是 刘经理 012345")[1] == c.WhoAmI("刘经理", "012345")
    for bad in ("我是 刘经理 12345", "我是 刘经理 1234567", "我是 刘经理 abc"):
        with pytest.raises(Usage):
            parse(bad)


@pytest.mark.parametrize("text, named_for, note", [
    ("到访 张三 13812345678 点名 刘洋", "刘洋", ""),
    ("到访 张三 13812345678 点名 @刘洋 看三居", "刘洋", "看三居"),
    ("到访 张三 13812345678 点名 带访 13900001111", "", ""),
    ("到访 张三 13812345678 点名", "", ""),
])
def test_named_may_name_the_colleague_the_customer_asked_for(text, named_for, note):
    v = cmd(text)
    assert v.named is True and v.named_for == named_for and v.note == note


@pytest.mark.parametrize("text, relation, linked, note", [
    ("成交 李秀英 13900000000 配偶 王建国", "配偶", "王建国", ""),
    ("成交 李秀英 13900000000 2套 妻子 138 1234 5678 首付", "配偶", "13812345678", "首付"),
    ("成交 李秀英 13900000000 配偶", "配偶", "", ""),
    ("成交 李秀英 13900000000 母亲 @王建国 全款", "父母", "王建国", "全款"),
])
def test_a_deal_relation_names_the_registered_customer(text, relation, linked, note):
    v = cmd(text)
    assert (v.relation, v.linked.replace(" ", ""), v.note) == (relation, linked, note)


@pytest.mark.parametrize("text", ["成交 张三 13812345678 0套", "成交 张三 13812345678 100套"])
def test_deal_units_outside_1_to_99_get_the_usage_line(text):
    with pytest.raises(Usage):
        cmd(text)


def test_the_verbs_say_themselves_which_take_a_phone_and_which_take_a_glued_name():
    """Flags on Verb, not the wording of a usage line (issue 18 item 5); they agree with the usage lines."""
    from bot.parser import PHONE_WORDS, VERBS
    assert set(PHONE_WORDS) == {w for v in VERBS if "手机" in v.usage.split("——")[0] for w in v.words}
    assert {w for v in VERBS if v.glued_name for w in v.words} <= set(PHONE_WORDS)
