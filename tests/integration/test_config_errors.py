"""Config that cannot lie (issue 22 item 4): what PyYAML would misread (9:00 as 540 minutes, a key
written twice), what a lax type would bend (`tracking_days: true` as 1) and what would only fail at the
first message (a zoned shift, one account for two people, one group for two projects) is refused
when the config is loaded: `state` exits 2 with one line on stderr naming the key.

Each bad config is the good one below with one thing changed."""
from __future__ import annotations

import json
from datetime import time

import pytest

from bot.cli import main
from bot.config import load_config, project_settings

GOOD = """\
timezone: Asia/Shanghai
policy:
  preset: real_estate
  remind_time: "09:00"
  quiet_hours: ["21:00", "08:30"]
projects:
  - name: 阳光花园
    shift: {start: "09:00", end: "18:00"}
    managers: [{name: 张经理, feishu: ou_zhang}]
    salespeople: [{name: 李四, feishu: ou_li, wechat: wx_li}, 王五, 赵六]
    chats: {feishu: [oc_sun]}
  - name: 绿城小区
    managers: [刘经理]
    salespeople: [钱七, 孙八]
    chats: {wechat: ["123@chatroom"]}
"""
SHIFT = 'shift: {start: "09:00", end: "18:00"}'
REMIND = 'remind_time: "09:00"'
QUIET = 'quiet_hours: ["21:00", "08:30"]'
SALES = "salespeople: [{name: 李四, feishu: ou_li, wechat: wx_li}, 王五, 赵六]"
SALES2 = "salespeople: [钱七, 孙八]"
BOSS = "managers: [{name: 张经理, feishu: ou_zhang}]"
BOSS2 = "managers: [刘经理]"
P0 = "  - name: 阳光花园\n"
P1 = "  - name: 绿城小区\n"
PRESET = "  preset: real_estate\n"


def policy(line: str) -> tuple[str, str]:
    """A setting added to the top-level policy block."""
    return PRESET, f"{PRESET}  {line}\n"


def project_policy(line: str, project: str = P0) -> tuple[str, str]:
    return project, f"{project}    policy: {{{line}}}\n"


BAD = [
    # (id, what is replaced, by what, words the one line must carry)
    # -- times: a quoted "HH:MM", 24-hour, no zone
    ("shift start unquoted", SHIFT, 'shift: {start: 9:00, end: "18:00"}',
     ["projects.0.shift.start", "9:00", "没有引号", '"09:00"']),
    ("shift end unquoted", SHIFT, 'shift: {start: "09:00", end: 18:00}',
     ["projects.0.shift.end", "没有引号", '"18:00"']),
    ("shift both unquoted", SHIFT, "shift: {start: 9:00, end: 18:00}", ["projects.0.shift.start", "没有引号"]),
    ("shift block unquoted", SHIFT, "shift:\n      start: 8:30\n      end: 17:30",
     ["projects.0.shift.start", '"08:30"']),
    ("shift h:mm:ss unquoted", SHIFT, 'shift: {start: 1:30:00, end: "18:00"}',
     ["projects.0.shift.start", "没有引号", '"01:30"']),
    ("shift zoned", SHIFT, 'shift: {start: "09:00+08:00", end: "18:00"}',
     ["projects.0.shift.start", "时区", '"09:00"']),
    ("shift zoned Z", SHIFT, 'shift: {start: "09:00", end: "18:00Z"}', ["projects.0.shift.end", "时区"]),
    ("shift zoned seconds", SHIFT, 'shift: {start: "09:00:00-05:00", end: "18:00"}',
     ["projects.0.shift.start", "时区"]),
    ("shift 9am", SHIFT, 'shift: {start: "9am", end: "18:00"}', ["projects.0.shift.start", "HH:MM", "9am"]),
    ("shift 24:00", SHIFT, 'shift: {start: "09:00", end: "24:00"}', ["projects.0.shift.end", "HH:MM"]),
    ("shift 09:60", SHIFT, 'shift: {start: "09:60", end: "18:00"}', ["projects.0.shift.start", "HH:MM"]),
    ("shift seconds", SHIFT, 'shift: {start: "09:00:00", end: "18:00"}', ["projects.0.shift.start", "HH:MM"]),
    ("shift a number", SHIFT, 'shift: {start: 900, end: "18:00"}', ["projects.0.shift.start", "900"]),
    ("shift a boolean", SHIFT, 'shift: {start: true, end: "18:00"}', ["projects.0.shift.start", "HH:MM"]),
    ("shift empty", SHIFT, 'shift: {start: "", end: "18:00"}', ["projects.0.shift.start", "HH:MM"]),
    ("shift null", SHIFT, 'shift: {start: null, end: "18:00"}', ["projects.0.shift.start", "HH:MM"]),
    ("shift a date", SHIFT, 'shift: {start: 2026-12-02, end: "18:00"}', ["projects.0.shift.start"]),
    ("second project unquoted", P1, P1 + "    shift: {start: 10:00, end: \"19:00\"}\n",
     ["projects.1.shift.start", '"10:00"']),
    ("shift a string", SHIFT, 'shift: "09:00-18:00"', ["projects.0.shift", "映射"]),
    ("shift inverted", SHIFT, 'shift: {start: "18:00", end: "09:00"}', ["projects.0.shift", "早于"]),
    ("quiet hours unquoted", QUIET, "quiet_hours: [21:00, 8:30]",
     ["policy.quiet_hours[0]", "没有引号", '"21:00"']),
    ("quiet hours end unquoted", QUIET, 'quiet_hours: ["21:00", 8:30]', ["policy.quiet_hours[1]", '"08:30"']),
    ("quiet hours zoned", QUIET, 'quiet_hours: ["21:00+08:00", "08:30"]', ["policy.quiet_hours[0]", "时区"]),
    ("quiet hours a number", QUIET, 'quiet_hours: ["21:00", 830]', ["policy.quiet_hours[1]", "830"]),
    ("quiet hours three", QUIET, 'quiet_hours: ["21:00", "08:30", "12:00"]', ["policy.quiet_hours"]),
    ("quiet hours a string", QUIET, 'quiet_hours: "21:00-08:30"', ["policy.quiet_hours"]),
    ("quiet start unquoted", QUIET, "quiet_start: 22:00", ["policy.quiet_start", '"22:00"']),
    ("remind unquoted", REMIND, "remind_time: 9:00", ["policy.remind_time", "没有引号", '"09:00"']),
    ("remind zoned", REMIND, 'remind_time: "09:00+08:00"', ["policy.remind_time", "时区"]),
    ("remind words", REMIND, 'remind_time: "9点"', ["policy.remind_time", "HH:MM"]),
    ("remind a number", REMIND, "remind_time: 9", ["policy.remind_time", "HH:MM"]),
    ("project remind unquoted", *project_policy("remind_time: 8:30"), ["projects.0.policy.remind_time", '"08:30"']),
    ("project quiet unquoted", *project_policy('quiet_hours: [22:00, "07:00"]', P1),
     ["projects.1.policy.quiet_hours[0]", '"22:00"']),
    # -- a key written twice: YAML keeps the last one without a word
    ("duplicate timezone", "timezone: Asia/Shanghai\n", "timezone: Asia/Shanghai\ntimezone: UTC\n",
     ["timezone", "重复", "第 1 行", "第 2 行"]),
    ("duplicate project name", P0, P0 + "    name: 阳光花园二期\n", ["name", "重复", "第 7 行"]),
    ("duplicate shift key", SHIFT, 'shift: {start: "09:00", start: "10:00", end: "18:00"}', ["start", "重复"]),
    ("duplicate managers", BOSS, BOSS + "\n    managers: [王经理]", ["managers", "重复"]),
    ("duplicate salespeople", SALES2, SALES2 + "\n    salespeople: [周九]", ["salespeople", "重复"]),
    ("duplicate policy block", "projects:\n", "policy: {preset: count_all}\nprojects:\n", ["policy", "重复"]),
    ("duplicate preset", PRESET, PRESET + "  preset: auto_dealer\n", ["preset", "重复"]),
    ("duplicate member field", "{name: 李四, feishu: ou_li,", "{name: 李四, feishu: ou_li, feishu: ou_li2,",
     ["feishu", "重复"]),
    ("duplicate projects", "projects:\n", "projects:\n  - name: 旧项目\n    managers: [老经理]\nprojects:\n",
     ["projects", "重复"]),
    # -- strict types: a boolean or a text is not a number, a number is not a yes/no
    ("tracking days true", *policy("tracking_days: true"), ["policy.tracking_days", "整数"]),
    ("tracking days 7.0", *policy("tracking_days: 7.0"), ["policy.tracking_days", "整数"]),
    ("tracking days quoted", *policy('tracking_days: "7"'), ["policy.tracking_days", "整数"]),
    ("tracking days unquoted time", *policy("tracking_days: 1:30"), ["policy.tracking_days", "整数"]),
    ("big order yes", *policy("big_order_units: yes"), ["policy.big_order_units", "整数"]),
    ("deal split true", *policy("deal_split: true"), ["policy.deal_split", "数字"]),
    ("phone duty 1", *policy("phone_duty: 1"), ["policy.phone_duty", "true 或 false"]),
    ("phone duty quoted yes", *policy('phone_duty: "yes"'), ["policy.phone_duty", "true 或 false"]),
    ("counted 0", *policy("own_return_open_counted: 0"), ["policy.own_return_open_counted"]),
    ("daily order a number", *policy("daily_order: 1"), ["policy.daily_order", "文字"]),
    ("project window false", *project_policy("non_buyer_window_minutes: false"),
     ["projects.0.policy.non_buyer_window_minutes", "整数"]),
    ("preset a list", "  preset: real_estate", "  preset: [real_estate]", ["policy.preset", "real_estate"]),
    ("unknown settings of two types", *policy("7: 1\n  colour: red"), ["policy", "colour", "7"]),
    ("web port true", "projects:\n", "web: {port: true}\nprojects:\n", ["web.port", "整数"]),
    ("web port text", "projects:\n", 'web: {port: "8080"}\nprojects:\n', ["web.port", "整数"]),
    # -- names: stripped; a letter or a CJK character in them
    ("blank salesperson", "王五, 赵六]", '"", 赵六]', ["projects.0.salespeople.1.name", "汉字或字母"]),
    ("spaces salesperson", "王五, 赵六]", '"   ", 赵六]', ["projects.0.salespeople.1.name"]),
    ("dot salesperson", "王五, 赵六]", '"·", 赵六]', ["projects.0.salespeople.1.name", "·"]),
    ("bullet salesperson", "王五, 赵六]", '"•", 赵六]', ["projects.0.salespeople.1.name"]),
    ("punctuation salesperson", "王五, 赵六]", '"、、！", 赵六]', ["projects.0.salespeople.1.name"]),
    ("digits salesperson", "王五, 赵六]", '"007", 赵六]', ["projects.0.salespeople.1.name"]),
    ("at sign salesperson", "王五, 赵六]", '"李@四", 赵六]', ["projects.0.salespeople.1.name", "@"]),
    ("long name", "王五, 赵六]", "王五王五王五王五王五王五王五王五王五王五王, 赵六]",
     ["projects.0.salespeople.1.name", "20"]),
    ("null salesperson", SALES2, "salespeople:\n      - 钱七\n      -\n      - 孙八",
     ["projects.1.salespeople.1.name"]),
    ("blank manager map", BOSS, 'managers: [{name: " ", feishu: ou_zhang}]', ["projects.0.managers.0.name"]),
    ("dash manager", BOSS2, 'managers: ["—"]', ["projects.1.managers.0.name"]),
    ("number salesperson", "王五, 赵六]", "12345, 赵六]", ["projects.0.salespeople.1.name", "文字"]),
    ("folded duplicate", "王五, 赵六]", "阿依•古丽, 阿依·古丽]", ["projects.0", "成员重名", "阿依·古丽"]),
    ("blank project", P0, '  - name: "   "\n', ["projects.0.name", "汉字或字母"]),
    ("empty project name", P1, '  - name: ""\n', ["projects.1.name"]),
    ("punctuation project", P1, '  - name: "！！"\n', ["projects.1.name"]),
    ("number project", P0, "  - name: 2026\n", ["projects.0.name", "文字"]),
    ("same project twice", P1, "  - name: 阳光花园\n", ["项目重名", "阳光花园"]),
    # -- every project has a manager
    ("no managers", f"    {BOSS}\n", "", ["projects.0.managers", "经理"]),
    ("null managers", BOSS2, "managers:", ["projects.1.managers", "经理"]),
    ("managers a string", BOSS2, "managers: 刘经理", ["projects.1.managers", "列表"]),
    ("no projects", "projects:\n" + GOOD.split("projects:\n", 1)[1], "projects: []\n", ["projects", "项目"]),
    # -- chats: the platforms the bot knows; one group, one project
    ("chats unknown platform", "chats: {feishu: [oc_sun]}", "chats: {dingtalk: [oc_sun]}",
     ["projects.0.chats", "dingtalk", "feishu"]),
    ("chats capital platform", "chats: {feishu: [oc_sun]}", "chats: {Feishu: [oc_sun]}",
     ["projects.0.chats", "Feishu"]),
    ("chats dingding", 'chats: {wechat: ["123@chatroom"]}', 'chats: {dingding: ["123@chatroom"]}',
     ["projects.1.chats", "dingding"]),
    ("benefit_notice unknown", "  preset: real_estate\n", "  preset: real_estate\n  benefit_notice: sometimes\n",
     ["benefit_notice", "sometimes"]),
    ("chats not a list", "chats: {feishu: [oc_sun]}", "chats: {feishu: oc_sun}", ["projects.0.chats.feishu"]),
    ("chats a list", "chats: {feishu: [oc_sun]}", "chats: [oc_sun]", ["projects.0.chats"]),
    ("one group two projects", 'chats: {wechat: ["123@chatroom"]}', "chats: {feishu: [oc_x, oc_sun]}",
     ["projects.1.chats.feishu", "oc_sun", "阳光花园", "绿城小区"]),
    ("one wechat group two projects", "chats: {feishu: [oc_sun]}", 'chats: {wechat: ["123@chatroom"]}',
     ["projects.1.chats.wechat", "123@chatroom", "阳光花园", "绿城小区"]),
    # -- one account, one person
    ("one feishu id two salespeople", "王五, 赵六]", "{name: 王五, feishu: ou_li}, 赵六]",
     ["projects.0.salespeople.1.feishu", "ou_li", "李四", "王五"]),
    ("one feishu id manager and salesperson", "{name: 李四, feishu: ou_li,", "{name: 李四, feishu: ou_zhang,",
     ["projects.0.salespeople.0.feishu", "ou_zhang", "张经理", "李四"]),
    ("one wechat id across projects", SALES2, "salespeople: [{name: 钱七, wechat: wx_li}, 孙八]",
     ["projects.1.salespeople.0.wechat", "wx_li", "李四", "钱七"]),
    ("one feishu id two managers", BOSS2, "managers: [{name: 刘经理, feishu: ou_zhang}]",
     ["projects.1.managers.0.feishu", "张经理", "刘经理"]),
    # -- other mistakes, kept one line
    ("unknown top key", "timezone:", "timezon:", ["timezon"]),
    ("unknown member field", "{name: 李四, feishu: ou_li,", "{name: 李四, phone: 13812345678, feishu: ou_li,",
     ["projects.0.salespeople.0.phone", "未知"]),
    ("unknown platform id", "{name: 李四, feishu: ou_li,", "{name: 李四, dingtalk: dd_li, feishu: ou_li,",
     ["projects.0.salespeople.0.dingtalk"]),
    ("timezone zoned", "timezone: Asia/Shanghai", 'timezone: "+08:00"', ["timezone", "+08:00"]),
]


def state(capsys, tmp_path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    rc = main(["state", "--json", "--config", str(path), "--db", f"sqlite:///{tmp_path}/r.db",
               "--at", "2026-12-02 10:00"])
    out, err = capsys.readouterr()
    return rc, out, err


def test_there_are_at_least_60_bad_configs_each_with_one_change():
    assert len(BAD) >= 60
    assert len({case[0] for case in BAD}) == len(BAD)
    for name, old, _new, _words in BAD:
        assert GOOD.count(old) == 1, name


@pytest.mark.parametrize("old,new,words", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_config_is_one_line_naming_the_key_and_exit_2(tmp_path, capsys, old, new, words):
    rc, out, err = state(capsys, tmp_path, GOOD.replace(old, new))
    lines = err.strip().splitlines()
    assert rc == 2 and out == "" and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("配置错误"), err
    for w in words:
        assert w in lines[0], (w, lines[0])


MERGE = GOOD[GOOD.index(SHIFT):GOOD.index(P1) + len(P1)]      # the first shift … the second project's name
GOOD_VARIANTS = [
    # (id, what is replaced, by what, (project, shift start, shift end) as read)
    ("as written", "", "", ("阳光花园", time(9), time(18))),
    ("24-hour evening shift", SHIFT, 'shift: {start: "13:30", end: "23:59"}', ("阳光花园", time(13, 30), time(23, 59))),
    ("single quotes", SHIFT, "shift: {start: '08:00', end: '17:00'}", ("阳光花园", time(8), time(17))),
    ("one-digit hour quoted", SHIFT, 'shift: {start: "8:00", end: "17:45"}', ("阳光花园", time(8), time(17, 45))),
    ("unquoted with a leading zero is text", SHIFT, "shift: {start: 08:30, end: 09:45}",   # YAML: "08:30"
     ("阳光花园", time(8, 30), time(9, 45))),
    ("midnight start", SHIFT, 'shift: {start: "00:00", end: "06:00"}', ("阳光花园", time(0), time(6))),
    ("default shift", f"    {SHIFT}\n", "", ("阳光花园", time(9), time(18))),
    ("block shift", SHIFT, 'shift:\n      start: "10:00"\n      end: "19:00"', ("阳光花园", time(10), time(19))),
    ("the same person in two projects", BOSS2, "managers: [刘经理, {name: 张经理, feishu: ou_zhang}]",
     ("绿城小区", time(9), time(18))),
    ("managers in the database", BOSS2, "managers: []", ("绿城小区", time(9), time(18))),
    ("names padded and dotted", "王五, 赵六]", '" 王五 ", 阿依•古丽]', ("阳光花园", time(9), time(18))),
    ("project quiet hours and remind", P1, P1 + '    policy: {quiet_hours: ["22:00", "07:00"], remind_time: "08:15"}\n',
     ("绿城小区", time(9), time(18))),
    ("a whole number for a fraction", PRESET, PRESET + "  deal_split: 1\n", ("阳光花园", time(9), time(18))),
    ("a YAML merge key", MERGE, MERGE.replace("shift: {", "shift: &s {") + '    shift: {<<: *s, end: "19:00"}\n',
     ("绿城小区", time(9), time(19))),
]


@pytest.mark.parametrize("old,new,read", [c[1:] for c in GOOD_VARIANTS], ids=[c[0] for c in GOOD_VARIANTS])
def test_a_good_config_loads_and_is_read_as_written(tmp_path, capsys, old, new, read):
    text = GOOD.replace(old, new)
    rc, out, err = state(capsys, tmp_path, text)
    assert rc == 0 and err == "", err
    assert json.loads(out)
    path = tmp_path / "config.yaml"
    ps = {p.name: p for p in project_settings(load_config(path))}
    name, start, end = read
    assert (ps[name].shift_start, ps[name].shift_end) == (start, end)


def test_good_times_are_read_as_written_everywhere(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(GOOD.replace(P1, P1 + '    policy: {quiet_hours: ["22:00", "07:00"], remind_time: "8:15"}\n'),
                    encoding="utf-8")
    first, second = project_settings(load_config(path))
    assert (first.policy.remind_time, first.policy.quiet_start, first.policy.quiet_end) == (
        time(9), time(21), time(8, 30))
    assert (second.policy.remind_time, second.policy.quiet_start, second.policy.quiet_end) == (
        time(8, 15), time(22), time(7))
    assert first.managers == ("张经理",) and second.salespeople == ("钱七", "孙八")
    assert ("李四", "wechat", "wx_li") in first.ids and first.chats == (("feishu", "oc_sun"),)
