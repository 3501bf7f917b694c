"""Generated history for the report tests and bench/report.py: receptions, customers, deals and
change-log rows of every kind the figures read, inserted in bulk (no bot in the loop)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from storage import models as m
from storage.uow import UnitOfWork

CATEGORIES = ["new"] * 6 + ["named", "own_return_open", "brought_open", "helper", "obligation", "non_buyer",
                            "errand", "off_shift", "repeat_today"]


TZ = ZoneInfo("Asia/Shanghai")


def generate(engine, project: str, first: date, days: int, sales: list[str], per_day: int, seed: int = 7) -> int:
    """Insert `days` days of history for `project` (created with `sales` as its roster); its id."""
    rnd = random.Random(seed)
    with UnitOfWork(engine) as uow:
        s = uow.session
        p = m.Project(name=project, state={})
        s.add(p)
        s.flush()
        s.execute(insert(m.Member), [{"project_id": p.id, "name": n, "role": "sales", "position": i}
                                     for i, n in enumerate(sales, 1)])
        for d in range(days):
            _day(s, rnd, p.id, first + timedelta(days=d), sales, per_day)
        uow.commit()
        return p.id


def _day(s, rnd, pid, day, sales, per_day):
    def at(h, mi):
        return datetime.combine(day, time(h, mi), tzinfo=TZ).astimezone(UTC)
    base = s.execute(insert(m.Customer).returning(m.Customer.id), [
        {"project_id": pid, "name": f"客{day:%m%d}{i}", "phone": f"13{(day.toordinal() * 1000 + i) % 10**9:09d}",
         "owner": rnd.choice(sales + [None]), "status": rnd.choice(["active"] * 4 + ["closed", "lapsed"]),
         "registered_by": rnd.choice(sales), "registered_at": at(9 + i % 9, i % 60),
         "valid_until": at(23, 59) + timedelta(days=rnd.randrange(-3, 10)), "note": "", "other_names": [],
         "due_stage": 0} for i in range(max(1, per_day // 3))]).scalars().all()
    _facts(s, rnd, pid, day, sales, base)
    recs = []
    for i in range(per_day):
        who = rnd.choice(sales)
        counted = rnd.choice([who, who, who, None, rnd.choice(sales)])
        recs.append({"project_id": pid, "day": day, "member": who, "customer_id": rnd.choice(base + [None]),
                     "category": rnd.choice(CATEGORIES), "counted_for": counted, "for_owner": None, "kind": "",
                     "started_at": at(9 + i % 9, i % 60), "ended_at": at(9 + i % 9, i % 60) + timedelta(minutes=30)})
    s.execute(insert(m.Reception), recs)
    deals = []
    for _ in range(rnd.randrange(0, 3)):
        a, b = rnd.sample(sales, 2)
        shares = {a: 1.0} if rnd.random() < 0.7 else {a: 0.5, b: 0.5}
        deals.append({"project_id": pid, "customer_id": rnd.choice(base), "day": day, "units": rnd.randrange(1, 4),
                      "shares": shares, "buyer_name": "买家", "relation": "", "reported_by": a,
                      "created_at": at(15, 0)})
    if deals:
        s.execute(insert(m.Deal), deals)
    s.execute(insert(m.Audit), [_audit(rnd, pid, day, at(10 + i % 7, i % 60), sales) for i in range(per_day // 4 + 1)])
    s.execute(insert(m.BenefitRow), [_benefit(rnd, pid, day, at(10 + i % 7, i % 60), sales)
                                     for i in range(per_day // 4 + 1)])


def _benefit(rnd, pid, day, when, sales) -> dict:
    """A benefit row: a make-up (used the same or a later day, or not yet), a refund without one, a kept
    place; some withdrawn by /驳回."""
    kind, makeup = rnd.choice([("makeup", True), ("refund", True), ("refund", False), ("kept_place", False)])
    used = rnd.choice([None, day, day + timedelta(days=rnd.randrange(0, 3))]) if makeup else None
    withdrawn = rnd.random() < 0.1
    return {"project_id": pid, "day": day, "member": rnd.choice(sales), "kind": kind, "reason": "…",
            "reception_id": None, "at": when, "withdrawn_by": "张经理" if withdrawn else None,
            "withdrawn_at": when if withdrawn else None, "withdrawn_why": "", "makeup": makeup,
            "used_day": None if withdrawn else used}


def _facts(s, rnd, pid, day, sales, ids):
    """Each new customer's registration; one in four was a 公客 before: registered 20 days earlier by
    someone else, lapsed 5 days later (what a re-registration leaves behind, RULES §11)."""
    rows = s.execute(select(m.Customer.id, m.Customer.registered_by, m.Customer.registered_at)
                     .where(m.Customer.id.in_(ids))).all()
    facts = [{"project_id": pid, "customer_id": c, "kind": "registered", "member": who, "at": at} for c, who, at in rows]
    for c, _, at in rows[::4]:
        earlier, who = at - timedelta(days=20), rnd.choice(sales)
        facts += [{"project_id": pid, "customer_id": c, "kind": "registered", "member": who, "at": earlier},
                  {"project_id": pid, "customer_id": c, "kind": "lapsed", "member": who,
                   "at": earlier + timedelta(days=5, hours=rnd.randrange(0, 12))}]
    s.execute(insert(m.Fact), facts)


def _audit(rnd, pid, day, when, sales) -> dict:
    who = rnd.choice(sales)
    reasons = rnd.choice([
        [f"{who} 获得补接,排到第1位(义务接待/代接未成交)"],
        [f"{who} 计接待名次(第3次),补接已用,排到队尾"],
        [f"{who} 签到,保留原位", f"{rnd.choice(sales)} 获得补接,排到第2位(经理安排)"],
        [f"{who} 送客"],
        [f"{who} 计接待名次(第1次),排到队尾"]])
    kind = rnd.choice(["cmd"] * 8 + ["system", "undo"])
    if kind == "undo":
        reasons = [f"撤销 {who} 的「/补接 {who}」"]
    return {"project_id": pid, "day": day, "at": when, "actor": who, "command": "…", "reasons": reasons,
            "undo": None, "kind": kind, "undone_by": rnd.choice([None] * 9 + [1])}
