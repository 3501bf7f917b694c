"""The fakes cannot drift: the same repository cases run against tests/unit/fakes.py and the SQL
repositories on SQLite, and must give the same answers.

One register is written through each side's own `add` methods; every query the fakes answer is then
asked of both. Rows are compared by the label they were seeded under, not by id or identity."""
from __future__ import annotations

import inspect
from datetime import date, timedelta

import pytest

from rules.enums import Category, CustomerStatus, MessageKind, Role
from storage import models as m
from storage.db import make_engine, migrate
from storage.uow import UnitOfWork, Units
from tests.conftest import at
from tests.unit import fakes

D = date(2026, 11, 27)
T0 = at("2026-11-27 09:00")


def _units(kind: str, tmp_path):
    if kind == "fake":
        return fakes.FakeUnits()
    engine = make_engine(f"sqlite:///{tmp_path}/contract.db")
    migrate(engine)
    return Units(engine)


def _seed(uow) -> dict:
    """The register both sides hold; returns {label: row}."""
    rows: dict = {}
    p = rows["P"] = uow.projects.add(m.Project(name="阳光花园", state={}, next_open_at=at("2026-11-28 09:00"),
                                                 next_summary_at=at("2026-11-27 21:00")))
    for label, name, role, pos, active in [("甲", "甲", Role.SALES, 2, True), ("乙", "乙", Role.SALES, 1, True),
                                           ("经理", "经理", Role.MANAGER, 3, True), ("丙", "丙", Role.SALES, 4, False)]:
        rows[label] = uow.members.add(m.Member(project_id=p.id, name=name, role=role, position=pos, active=active))
    rows["甲"].feishu_id = "ou_jia"
    uow.projects.bind("feishu", "oc_1", p.id)
    for label, phone, owner, status, due, until in [
            ("c1", "13800000001", "甲", CustomerStatus.ACTIVE, T0 + timedelta(hours=2), at("2026-12-05 00:00")),
            ("c2", "13800000002", "乙", CustomerStatus.ACTIVE, T0 - timedelta(hours=1), at("2026-12-05 00:00")),
            ("c3", "13900000003", "甲", CustomerStatus.ACTIVE, None, at("2026-12-01 00:00")),
            ("c4", "13900000004", None, CustomerStatus.LAPSED, None, None)]:
        rows[label] = uow.customers.add(m.Customer(
            project_id=p.id, name="张三" if label != "c2" else "李四", phone=phone, owner=owner, status=status,
            registered_by=owner or "乙", registered_at=T0 - timedelta(days=3), valid_until=until, due_at=due))
    uow.flush()
    uow.customers.add_phone(p.id, rows["c1"].id, "13700000009")
    for label, member, cust, cat, day, ended, nudge in [
            ("r1", "甲", "c1", Category.NEW, D, None, T0 + timedelta(minutes=30)),
            ("r2", "乙", "c2", Category.NON_BUYER, D, None, None),
            ("r3", "乙", None, Category.NON_BUYER, D, T0 + timedelta(minutes=20), None),
            ("r4", "甲", "c3", Category.HELPER, D - timedelta(days=1), None, None),
            ("r5", "乙", "c1", Category.HELPER, D, T0 + timedelta(minutes=40), None)]:
        rows[label] = uow.receptions.add(m.Reception(
            project_id=p.id, day=day, member=member, customer_id=rows[cust].id if cust else None, category=cat,
            counted_for=member, started_at=T0, ended_at=ended, nudge_at=nudge))
    for label, member, kind, makeup in [("b1", "甲", "refund", True), ("b2", "甲", "kept_place", False),
                                        ("b3", "乙", "makeup", True)]:
        rows[label] = uow.benefits.add(m.BenefitRow(project_id=p.id, day=D, member=member, kind=kind, reason="r",
                                                     at=T0, makeup=makeup))
    rows["b3"].used_day = D
    rows["a1"] = uow.aways.add(m.Away(project_id=p.id, day=D, member="乙", kind="away", reason="看房", started_at=T0))
    rows["d1"] = uow.deals.add(m.Deal(project_id=p.id, customer_id=rows["c1"].id, day=D, buyer_name="张三",
                                      relation="本人", reported_by="甲", units=1, shares=[["甲", 100]],
                                      created_at=T0))
    uow.flush()
    rows["ap1"] = uow.deals.add(m.Appeal(deal_id=rows["d1"].id, customer_id=rows["c1"].id, by="乙", reason="我先接",
                                         at=T0 + timedelta(minutes=5)))
    rows["rel1"] = uow.relatives.add(m.Relative(project_id=p.id, customer_id=rows["c1"].id, name="张妈",
                                                phone="13600000006", relation="妈妈", created_at=T0))
    uow.flush()
    return rows


def _label(rows: dict, value):
    """Rows by the label they were seeded under; containers element by element."""
    if isinstance(value, m.Base):
        return next((k for k, r in rows.items() if type(r) is type(value) and r.id == value.id), repr(value))
    if isinstance(value, dict):
        return {_label(rows, k): _label(rows, v) for k, v in value.items()}
    if hasattr(value, "_fields"):                   # a Row of columns
        return [_label(rows, v) for v in value]
    if isinstance(value, list | tuple):
        return [_label(rows, v) for v in value]
    if isinstance(value, set):
        return sorted(_label(rows, v) for v in value)
    return value


def _cases(r: dict) -> dict:
    """name → (repository, method, args): the queries handlers/ and the bus ask of the fakes."""
    p, c1, c3 = r["P"].id, r["c1"].id, r["c3"].id
    return {
        "roster": ("members", "active_roster", (p,)),
        "member named": ("members", "named", (p, "丙")),
        "active member named": ("members", "named", (p, "丙", True)),
        "managers": ("members", "manager_names", (p, True)),
        "linked or named": ("members", "linked_or_named", (p, "feishu", "ou_jia", "乙")),
        "account of": ("members", "account_of", ("feishu", "阳光花园", "甲")),
        "name of account": ("members", "name_of_account", ("feishu", "ou_jia")),
        "linked to": ("members", "linked_to", ("feishu", "ou_jia")),
        "every linked account": ("members", "directory", ()),
        "every bound chat": ("projects", "chat_bindings", ()),
        "chat's project": ("projects", "name_of_chat", ("feishu", "oc_1")),
        "unbound chat": ("projects", "name_of_chat", ("feishu", "oc_2")),
        "by phone": ("customers", "by_phone", (p, "13800000002")),
        "by extra phone": ("customers", "by_phone", (p, "13700000009")),
        "phones of": ("customers", "phones_of", (c1,)),
        "customers named": ("customers", "named", (p, "张三")),
        "by phone parts": ("customers", "by_phone_parts", (p, "138", "0001")),
        "by phone parts, extra phone": ("customers", "by_phone_parts", (p, "137", "09")),
        "active of": ("customers", "active_of", (p, "甲")),
        "owned by": ("customers", "owned_by", (p, "甲")),
        "lapsing at": ("customers", "lapsing_at", (p, at("2026-12-01 00:00"))),
        "receptions of customer": ("receptions", "of_customer", (c1,)),
        "open of": ("receptions", "open_of", (p, "甲")),
        "open of customer": ("receptions", "open_of_customer", (p, c3)),
        "left open before": ("receptions", "left_open_before", (p, D)),
        "count of customer on": ("receptions", "count_of_customer_on", (p, c1, D)),
        "facts of day": ("receptions", "facts_of_day", (p, D)),
        "last ended": ("receptions", "last_ended", (p, "乙", D)),
        "latest open non-buyer": ("receptions", "latest_open_non_buyer", (p, D)),
        "nudges due": ("receptions", "nudges_due", (p, T0 + timedelta(hours=1))),
        "no nudge due yet": ("receptions", "nudges_due", (p, T0)),
        "by others": ("receptions", "of_customer_by_others", (c1, D, "甲")),
        "latest helper": ("receptions", "latest_helper", (c1, D, "甲", ["甲", "乙"])),
        "receptions on day": ("receptions", "on_day", (p, D)),
        "deal on": ("deals", "of_customer_on", (c1, D)),
        "deals counted": ("deals", "count_of_customer_on", (c1, D)),
        "latest deal": ("deals", "latest_of", (c1,)),
        "deals on day": ("deals", "on_day", (p, D)),
        "appeal on": ("deals", "appeal_on", (c1, "乙", T0)),
        "appeal by": ("deals", "appeal_by", (r["d1"].id, "乙")),
        "relatives": ("relatives", "of_customer", (c1,)),
        "relative by phone": ("relatives", "by_phone", (p, "13600000006")),
        "standing benefits": ("benefits", "standing", (p, D, "甲")),
        "benefits on day": ("benefits", "on_day", (p, D)),
        "unused make-up": ("benefits", "unused_makeup", (p, "甲")),
        "used make-up is not offered": ("benefits", "unused_makeup", (p, "乙")),
        "open away": ("aways", "open_of", (p, "乙")),
        "aways on day": ("aways", "on_day", (p, D)),
        "earliest reminders": ("projects", "earliest_reminders", (p,)),
        "schedule of": ("projects", "schedule_of", ("阳光花园",)),
        "id of": ("projects", "id_of", ("阳光花园",)),
        "no such project": ("projects", "id_of", ("别的",)),
        "every project's schedule": ("projects", "schedules", ()),
        "reminders taken": ("customers", "take_due", (p, T0)),          # (last: it empties their due times)
        "none left to take": ("customers", "take_due", (p, T0)),
    }


def _answers(units) -> dict:
    with units() as uow:
        rows = _seed(uow)
        uow.commit()
    out = {}
    with units() as uow:
        for name, (repo, method, args) in _cases(rows).items():
            got = getattr(getattr(uow, repo), method)(*args)
            if method == "active_roster":           # rows of (name, role, position) or members
                got = [(r.name, r.role, r.position) for r in got]
            if method == "take_due":                # plain rows: by name and phone
                got = [(d.name, d.phone, d.due_stage) for d in got]
            if method == "facts_of_day":            # reception ids by label
                got = (got.counted, {k: [uow.receptions.get(i) for i in ids] for k, ids in got.open.items()})
            out[name] = _label(rows, got)
    return out


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("contract")
    return {kind: _answers(_units(kind, tmp)) for kind in ("fake", "sqlite")}


@pytest.mark.parametrize("case", list(_cases({k: m.Project(id=1) for k in (
    "P", "c1", "c3", "d1")}).keys()))
def test_the_fake_repository_answers_as_the_sql_one(answers, case):
    assert answers["fake"][case] == answers["sqlite"][case]


def test_the_cases_find_something():
    """A contract of empty answers would hold for any fake: most cases must find rows."""
    found = _answers(fakes.FakeUnits())
    empty = [k for k, v in found.items() if v in (None, [], 0, {})]
    assert set(empty) == {"active member named", "no nudge due yet", "used make-up is not offered", "no such project",
                         "unbound chat", "none left to take"}


def test_the_unit_of_work_outbox_and_events_behave_alike(tmp_path):
    """A taken outbox key and a redelivered event are refused on both sides; a rollback forgets both."""
    for units in (fakes.FakeUnits(), _units("sqlite", tmp_path)):
        with units() as uow:
            p = uow.projects.add(m.Project(name="P", state={}))
            uow.commit()
        values = dict(key="k1", project_id=p.id, to=None, text="t", mentions=[], due_at=T0, created_at=T0,
                      claimed_at=T0, claimed_by="w", platform=None, chat_id=None, card=None, file=None, attempts=1,
                      retry_at=T0, kind=str(MessageKind.REPLY), day=D)
        with units() as uow:
            assert uow.outbox.add(values) and not uow.outbox.add(values)
            assert uow.events.claim("e1", T0) and not uow.events.claim("e1", T0)
            uow.rollback()
        with units() as uow:
            assert uow.outbox.add(values) and uow.events.claim("e1", T0)
            point = uow.savepoint()
            uow.outbox.add(dict(values, key="k2"))
            point.rollback()
            uow.commit()
        with units() as uow:
            uow.outbox.mark_sent(["k1", "k2"], T0)
            assert uow.outbox.sent_keys(["k1", "k2"]) == {"k1"}, type(units)


FAKE_REPOS = {"members": fakes.FakeMembers, "customers": fakes.FakeCustomers, "receptions": fakes.FakeReceptions,
              "deals": fakes.FakeDeals, "facts": fakes.FakeFacts, "audit": fakes.FakeAudit, "links": fakes.FakeLinks,
              "projects": fakes.FakeProjects, "events": fakes.FakeEvents, "outbox": fakes.FakeOutbox,
              "relatives": fakes.FakeRelatives, "benefits": fakes.FakeBenefits, "aways": fakes.FakeAways}


@pytest.mark.parametrize("repo", sorted(FAKE_REPOS))
def test_every_fake_method_is_a_sql_method_with_the_same_parameters(tmp_path, repo):
    with UnitOfWork(make_engine(f"sqlite:///{tmp_path}/shape.db"), readonly=True) as uow:
        real = type(getattr(uow, repo))
    fake = FAKE_REPOS[repo]
    for name, fn in vars(fake).items():      # (add/get/where of fakes._Rows are the fakes' own storage)
        if name.startswith("_") or not inspect.isfunction(fn):
            continue
        assert hasattr(real, name), f"{repo}.{name} exists only in the fake"
        fake_params = list(inspect.signature(fn).parameters)
        assert fake_params == list(inspect.signature(getattr(real, name)).parameters), f"{repo}.{name}"
