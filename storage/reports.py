"""The figures behind /report, /周报, /月报 and the 汇总 sheet: grouped in SQL, never row by row.

Every query filters on an indexed (project_id, day | registered_at | valid_until) range and
returns one row per salesperson (or per day); Python only merges those few rows.
Where each figure comes from:
  receptions   receptions.counted_for = X (counted) / member = X and not counted for X (uncounted);
               找人/问路 (errand) is not a reception; added up per day by triggers (reception_counts)
  visitors     per day: distinct customers received, plus receptions without a customer (来访)
  registrations dated_facts 'registered' of X in the range: written when a customer is registered
               (new, or a 公客 again), so a later registration never erases an earlier one (RULES §11)
  deals, units deals.shares (a split counts as its share), units × share; deals.day in the range
  lapsed       dated_facts 'lapsed' of X in the range (written when a lapsed customer's record changes),
               plus customers still owned by X whose validity ended in the range, before now, and not
               yet written (a manager's /释放 of a customer still valid is no lapse)
  make-ups     benefits rows that gave a make-up: earned on their day unless withdrawn (/驳回, or the
               rules taking it back), used on the day of the holder's next counted reception
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, bindparam, func, select, text
from sqlalchemy.orm import Session

from rules.enums import SELLS, CustomerStatus, FactKind
from storage import models as m

R = m.Reception


def receptions(s: Session, pid: int, start: date, end: date) -> dict[str, list[int]]:
    """{name: [counted, uncounted]} from reception_counts (kept by triggers on receptions: one row per
    day and salesperson, so a year is ~18k rows to add up, not 200k receptions to sort)."""
    C = m.ReceptionCount
    q = (select(C.member, func.sum(C.counted), func.sum(C.uncounted))
         .where(C.project_id == pid, C.day >= start, C.day <= end).group_by(C.member))
    return {who: [int(c), int(u)] for who, c, u in s.execute(q) if c or u}


def daily_walk_ins(s: Session, pid: int, start: date, end: date) -> dict[date, int]:
    """Visitors per day, each counted once: a registered customer received twice that day (handed over
    to the owner, come back) is one visitor; a reception without a customer is one (visit_counts, kept
    by triggers on receptions)."""
    V = m.VisitCount
    q = select(V.day, V.visitors).where(V.project_id == pid, V.day >= start, V.day <= end, V.visitors != 0)
    return {d: n for d, n in s.execute(q)}


def registrations(s: Session, pid: int, lo: datetime, hi: datetime) -> dict[str, int]:
    F = m.Fact
    q = (select(F.member, func.count()).where(F.project_id == pid, F.kind == FactKind.REGISTERED, F.at >= lo, F.at < hi)
         .group_by(F.member))
    return dict(s.execute(q).all())


def lapsed(s: Session, pid: int, lo: datetime, hi: datetime) -> dict[str, int]:
    """Lapses written down when the record changed, plus those the current record still shows."""
    F, C = m.Fact, m.Customer
    q = (select(F.member, func.count()).where(F.project_id == pid, F.kind == FactKind.LAPSED, F.at >= lo, F.at < hi)
         .group_by(F.member))
    out = dict(s.execute(q).all())
    # the current records past their deadline, less those whose lapse at that deadline is written down
    # already (at most one each: dated_facts is unique on customer, kind and time): two index range
    # scans, instead of a look-up in dated_facts for every record in the range
    shown = (select(C.owner, func.count()).where(
        C.project_id == pid, C.status == CustomerStatus.ACTIVE, C.valid_until >= lo, C.valid_until < hi,
        C.owner.is_not(None)).group_by(C.owner))
    written = (select(C.owner, func.count()).select_from(F).join(C, C.id == F.customer_id).where(
        F.project_id == pid, F.kind == FactKind.LAPSED, F.at >= lo, F.at < hi, C.status == CustomerStatus.ACTIVE,
        C.valid_until == F.at, C.owner.is_not(None)).group_by(C.owner))
    less = dict(s.execute(written).all())
    for who, n in s.execute(shown):
        if who is not None and n > less.get(who, 0):        # (the query asks for an owner)
            out[who] = out.get(who, 0) + n - less.get(who, 0)
    return out


_DEALS = {
    "sqlite": "SELECT je.key, SUM(CAST(je.value AS REAL)), SUM(CAST(je.value AS REAL) * d.units) "
              "FROM deals d, json_each(d.shares) je",
    "postgresql": "SELECT je.key, SUM(CAST(je.value AS DOUBLE PRECISION)), "
                  "SUM(CAST(je.value AS DOUBLE PRECISION) * d.units) FROM deals d, json_each_text(d.shares) je",
}


def deals(s: Session, pid: int, start: date, end: date) -> dict[str, tuple[float, float]]:
    """{name: (deals as shares, units as shares)}."""
    sql = _DEALS[s.get_bind().dialect.name] + " WHERE d.project_id = :pid AND d.day >= :a AND d.day <= :b GROUP BY je.key"
    q = text(sql).bindparams(bindparam("pid", type_=Integer), bindparam("a", type_=Date), bindparam("b", type_=Date))
    return {k: (float(n), float(u)) for k, n, u in s.execute(q, {"pid": pid, "a": start, "b": end})}


def makeups(s: Session, pid: int, start: date, end: date) -> dict[str, tuple[int, int]]:
    """{name: (earned, used)} from the benefit rows: make-ups granted in the range and not withdrawn,
    and make-ups used in the range (a counted reception of their holder)."""
    B = m.BenefitRow
    earned = select(B.member, func.count()).where(
        B.project_id == pid, B.makeup.is_(True), B.withdrawn_by.is_(None), B.day >= start, B.day <= end
    ).group_by(B.member)
    used = select(B.member, func.count()).where(
        B.project_id == pid, B.makeup.is_(True), B.used_day >= start, B.used_day <= end).group_by(B.member)
    out: dict[str, list[int]] = {}
    for who, n in s.execute(earned):
        out.setdefault(who, [0, 0])[0] = n
    for who, n in s.execute(used):
        out.setdefault(who, [0, 0])[1] = n
    return {w: (e, u) for w, (e, u) in out.items()}


def roster(s: Session, pid: int) -> list[str]:
    """Active salespeople in 接待排序表 order."""
    Mb = m.Member
    return list(s.scalars(select(Mb.name).where(Mb.project_id == pid, Mb.active.is_(True),
                                                 Mb.role.in_(SELLS)).order_by(Mb.position, Mb.id)))
