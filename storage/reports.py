"""The figures behind /report, /周报, /月报 and the 汇总 sheet: grouped in SQL, never row by row.

Every query filters on an indexed (project_id, day | registered_at | valid_until) range and
returns one row per salesperson (or per day); Python only merges those few rows.
Where each figure comes from:
  receptions   receptions.counted_for = X (counted) / member = X and not counted for X (uncounted);
               找人/问路 (errand) is not a reception
  registrations customers.registered_by = X, registered_at in the range
  deals, units deals.shares (a split counts as its share), units × share; deals.day in the range
  lapsed       customers still owned by X whose validity (valid_until) ended in the range, before now
               (a manager's /释放 clears the owner and is not counted here)
  make-ups     the change log: reasons "X 获得补接…" (earned) and "X 计接待名次…补接已用…" (used),
               not undone, /撤销 rows excluded
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, and_, bindparam, func, select, text
from sqlalchemy.orm import Session

from rules.enums import SELLS, AuditKind, Category, CustomerStatus
from storage import models as m

R = m.Reception


def receptions(s: Session, pid: int, start: date, end: date) -> dict[str, list[int]]:
    """{name: [counted, uncounted]}: one pass grouped by (member, counted_for), at most members² rows."""
    q = (select(R.member, R.counted_for, func.count()).where(
        R.project_id == pid, R.day >= start, R.day <= end, R.category != Category.ERRAND).group_by(R.member, R.counted_for))
    out: dict[str, list[int]] = {}
    for member, counted_for, n in s.execute(q):
        if counted_for:
            out.setdefault(counted_for, [0, 0])[0] += n
        if counted_for != member:
            out.setdefault(member, [0, 0])[1] += n
    return out


def daily_walk_ins(s: Session, pid: int, start: date, end: date) -> dict[date, int]:
    q = (select(R.day, func.count()).where(R.project_id == pid, R.day >= start, R.day <= end, R.category != Category.ERRAND)
         .group_by(R.day))
    return {d: n for d, n in s.execute(q)}


def registrations(s: Session, pid: int, lo: datetime, hi: datetime) -> dict[str, int]:
    C = m.Customer
    q = (select(C.registered_by, func.count()).where(C.project_id == pid, C.registered_at >= lo, C.registered_at < hi)
         .group_by(C.registered_by))
    return dict(s.execute(q).all())


def lapsed(s: Session, pid: int, lo: datetime, hi: datetime) -> dict[str, int]:
    C = m.Customer
    q = (select(C.owner, func.count()).where(and_(
        C.project_id == pid, C.status == CustomerStatus.ACTIVE, C.valid_until >= lo, C.valid_until < hi,
        C.owner.is_not(None)))
        .group_by(C.owner))
    return dict(s.execute(q).all())


_DEALS = {
    "sqlite": "SELECT je.key, SUM(CAST(je.value AS REAL)), SUM(CAST(je.value AS REAL) * d.units) "
              "FROM deals d, json_each(d.shares) je",
    "postgresql": "SELECT je.key, SUM(CAST(je.value AS DOUBLE PRECISION)), "
                  "SUM(CAST(je.value AS DOUBLE PRECISION) * d.units) FROM deals d, json_each_text(d.shares) je",
}


def deals(s: Session, pid: int, start: date, end: date) -> dict[str, tuple[float, float]]:
    """{name: (deals as shares, units as shares)}."""
    sql = _DEALS[s.bind.dialect.name] + " WHERE d.project_id = :pid AND d.day >= :a AND d.day <= :b GROUP BY je.key"
    q = text(sql).bindparams(bindparam("pid", type_=Integer), bindparam("a", type_=Date), bindparam("b", type_=Date))
    return {k: (float(n), float(u)) for k, n, u in s.execute(q, {"pid": pid, "a": start, "b": end})}


_MAKEUPS = {
    "sqlite": "SELECT substr(r.value, 1, instr(r.value, ' ') - 1) AS who, "
              "SUM(CASE WHEN r.value LIKE '% 获得补接%' THEN 1 ELSE 0 END), "
              "SUM(CASE WHEN r.value LIKE '%补接已用%' THEN 1 ELSE 0 END) FROM audit a, json_each(a.reasons) r",
    "postgresql": "SELECT split_part(r.value, ' ', 1) AS who, "
                  "SUM(CASE WHEN r.value LIKE '% 获得补接%' THEN 1 ELSE 0 END), "
                  "SUM(CASE WHEN r.value LIKE '%补接已用%' THEN 1 ELSE 0 END) "
                  "FROM audit a, json_array_elements_text(a.reasons) r",
}


def makeups(s: Session, pid: int, start: date, end: date) -> dict[str, tuple[int, int]]:
    """{name: (earned, used)} from the change log."""
    sql = (_MAKEUPS[s.bind.dialect.name] + " WHERE a.project_id = :pid AND a.day >= :a AND a.day <= :b"
           f" AND a.kind <> '{AuditKind.UNDO}' AND a.undone_by IS NULL"
           " AND (r.value LIKE '% 获得补接%' OR r.value LIKE '%补接已用%') GROUP BY who")
    q = text(sql).bindparams(bindparam("pid", type_=Integer), bindparam("a", type_=Date), bindparam("b", type_=Date))
    return {w: (int(e), int(u)) for w, e, u in s.execute(q, {"pid": pid, "a": start, "b": end})}


def roster(s: Session, pid: int) -> list[str]:
    """Active salespeople in 接待排序表 order."""
    Mb = m.Member
    return list(s.scalars(select(Mb.name).where(Mb.project_id == pid, Mb.active.is_(True),
                                                 Mb.role.in_(SELLS)).order_by(Mb.position, Mb.id)))
