"""The one normaliser (rules/normalize.py), the masking pass (bot/privacy.py) and the log filter (bot/logfilter.py)."""
from __future__ import annotations

import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.logfilter import PhoneFilter
from bot.privacy import mask_phones
from rules.customers import masked_parts, name_problem
from rules.normalize import (
    chinese_int,
    clean,
    edit_distance_one,
    fold_aligned,
    fold_name,
    member_name_problem,
    normalize,
    space_phones,
    split_args,
    strip_junk,
)


# ---- the input boundary ----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, cleaned", [
    ("李四\x00", "李四"), ("签\x07到\x1b", "签到"), ("签到\ud800", "签到"), ("\udfff到访", "到访"),
    ("第一行\n第二行\t", "第一行\n第二行\t"), ("\x7f\x85签到", "签到"),
])
def test_clean_drops_nul_control_characters_and_lone_surrogates(raw, cleaned):
    assert clean(raw) == cleaned


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_cleaned_text_can_be_stored_as_utf8(text):
    clean(text).encode("utf-8")
    assert "\x00" not in clean(text)


# ---- arguments ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, args", [
    ("李娟，13912345678", ["李娟", "13912345678"]),
    ("甲、乙;丙：丁", ["甲", "乙", "丙", "丁"]),
    ("张三！ ✅ 看三居。", ["张三", "看三居"]),
    ("「张三」", ["张三"]),
    ("10:30 回来", ["10:30", "回来"]),
    ("-5套", ["-5套"]),
    ("王**", ["王**"]),
])
def test_arguments_split_on_separators_and_lose_trailing_punctuation(raw, args):
    assert split_args(normalize(raw)) == args


@pytest.mark.parametrize("raw, spaced", [
    ("李娟13912345678", "李娟 13912345678 "),
    ("(+86)136-1234-5678", " 13612345678 "),
    ("+86 138 1234 5678", " 13812345678 "),
    ("1-1-113812345678", "1-1-113812345678"),            # not a phone as typed: left to the handler
    ("138123456789", "138123456789"),
])
def test_every_typed_phone_becomes_its_11_digits(raw, spaced):
    assert space_phones(raw) == spaced


@pytest.mark.parametrize("raw, name", [("阿依•古丽", "阿依·古丽"), ("阿依‧古丽", "阿依·古丽"), ("阿依・古丽", "阿依·古丽"),
                                       ("@李四", "李四"), ("李四！", "李四"), ("ＬＩ　Ｓｉ", "LI Si")])
def test_names_are_folded_the_same_way_everywhere(raw, name):
    assert fold_name(raw) == name


@pytest.mark.parametrize("word, value", [("一", 1), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20),
                                         ("九十九", 99), ("零", 0), ("百", None), ("三五", None)])
def test_chinese_numerals(word, value):
    assert chinese_int(word) == value


@pytest.mark.parametrize("a, b, one", [("到方", "到访", True), ("到访了", "到访", True), ("到", "到访", True),
                                       ("到访", "到访", False), ("早上好", "到访", False)])
def test_edit_distance_one(a, b, one):
    assert edit_distance_one(a, b) is one


def test_strip_junk_keeps_leading_minus_and_masks():
    assert strip_junk("-5套！") == "-5套" and strip_junk("138****5678。") == "138****5678"


# ---- RULES §5.1 real names ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["李𬌗", "王建国", "欧阳娜娜", "阿依·古丽", "Tom Hanks", "Mary Jane Watson",
                                  "O'Brien Ann", "𠀀𠀁", "张" * 20, "王晓生", "李太白"])
def test_real_names_of_every_cjk_plane_and_latin_full_names_are_accepted(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name, why", [
    ("王XX", "代称"), ("王X", "代称"), ("王某", "代称"), ("王某某", "代称"), ("客户A", "代称"), ("A客户", "代称"),
    ("老李", "称呼"), ("小王", "称呼"), ("阿强", "称呼"), ("王姐", "称呼"), ("李哥", "称呼"), ("陈生", "称呼"),
    ("张先生", "称呼"), ("李女士", "称呼"), ("刘总", "称呼"), ("欧阳总", "称呼"), ("王经理", "称呼"),
    ("赵老师", "称呼"), ("孙师傅", "称呼"), ("周阿姨", "称呼"), ("王**", "代称"), ("Mr Wang", "称呼"),
    ("先生", "代称"), ("xx", "代称"), ("张3", "数字"), ("13812345678", "数字"), ("张", "2–20"), ("张" * 21, "2–20"),
    ("张三!", "汉字"), ("张Tom", "汉字"),
])
def test_placeholders_and_forms_of_address_are_refused_with_the_reason(name, why):
    assert why in (name_problem(name) or "")


@pytest.mark.parametrize("name, problem", [("", "空"), ("@", "空"), ("。。", "空"), ("张" * 21, "20"),
                                           ("李四", None), ("小王", None), ("12345", "数字")])
def test_roster_names_are_1_to_20_characters(name, problem):
    got = member_name_problem(name)
    assert (got is None) if problem is None else (problem in got)


@pytest.mark.parametrize("key, parts", [("138****5678", ("138", "5678")), ("138xxxx5678", ("138", "5678")),
                                        ("5678", ("", "5678")), ("张三", None), ("56789", None)])
def test_lookup_keys_that_are_part_of_a_phone(key, parts):
    assert masked_parts(key) == parts


# ---- RULES §10 masking ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, masked", [
    ("到访 张三 13812345678", "到访 张三 138****5678"),
    ("到访 张三 １３８１２３４５６７８，好的", "到访 张三 138****5678，好的"),
    ("138  1234  5678", "138****5678"),
    ("138 - 1234 - 5678", "138****5678"),
    ("(+86)136-1234-5678", "136****5678"),
    ("+86 138 1234 5678 3套", "138****5678 3套"),
    ("电话：１３８－１２３４－５６７８。", "电话：138****5678。"),
    ("「1-1-113812345678」", "「1-1-1138****5678」"),
    ("13812345678 13900001111", "138****5678 139****1111"),
    ("李娟13912345678看三居", "李娟139****5678看三居"),
    ("13812345678138123456781381234567813812345678", None),
    ("下一位：李四（2026-11-27 15:00）", "下一位：李四（2026-11-27 15:00）"),
    ("1381234567", "1381234567"),
    ("13000086130 00000000", "130****6130 ****0000"),   # a mask's last four + the next digits (hypothesis found it)
])
def test_every_typed_form_of_a_phone_is_masked_and_the_rest_is_kept(text, masked):
    got = mask_phones(text)
    if masked is not None:
        assert got == masked
    assert not _full_phone_in(got)


def _full_phone_in(text: str) -> bool:
    """Any 11-digit mobile left, even with spaces or dashes between its digits (other characters break it)."""
    digits = "".join(ch if ch.isdigit() else "|" for ch in fold_aligned(text) if ch not in " -")
    return re.search(r"1[3-9][0-9]{9}", digits) is not None


PHONE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@st.composite
def typed(draw):
    """A mobile as a hurried person types it, in the middle of other text and digits."""
    phone = draw(PHONE)
    sep = st.sampled_from(["", "", " ", "-", "  ", "－", "　"])
    out = "".join(ch + draw(sep) for ch in phone).strip(" -－　")
    if draw(st.booleans()):
        out = out.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "(+86)", "（+86）", "0086"]))
    around = st.text(alphabet="张三，。: 0123456789-", max_size=6)
    return draw(around) + prefix + out + draw(around)


@settings(max_examples=300, deadline=None)
@given(typed())
def test_no_typed_phone_survives_the_masking_pass(text):
    assert not _full_phone_in(mask_phones(text))


# ---- the log filter ------------------------------------------------------------------------------------
def _record(msg, *args, exc=None):
    return logging.LogRecord("lark_oapi", logging.ERROR, __file__, 1, msg, args, exc)


def test_log_filter_masks_message_arguments_and_traceback():
    try:
        raise KeyError("到访 张三 13812345678")
    except KeyError:
        import sys
        rec = _record("failed %r for %s", "１３８ １２３４ ５６７８", "13900001111", exc=sys.exc_info())
    assert PhoneFilter().filter(rec) is True
    text = logging.Formatter("%(message)s").format(rec)
    assert "138****5678" in text and "139****1111" in text
    assert not _full_phone_in(text)


def test_installed_filter_masks_records_of_loggers_with_their_own_handlers(caplog):
    from bot.logfilter import install
    install()
    sdk = logging.getLogger("Lark")           # lark-oapi's logger has its own handler
    with caplog.at_level(logging.INFO):
        sdk.warning("send to %s failed: %s", "ou_1", "大单提醒：李四 成交 张三（13812345678）3套")
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text
