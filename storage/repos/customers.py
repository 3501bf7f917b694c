"""The customer register (RULES §5): lookups by phone, name and owner, and the reminder sweep."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, select, text, union_all, update
from sqlalchemy.orm import Session

from rules.enums import CustomerStatus
from storage import models as m

C = m.Customer
_T = cast(Table, C.__table__)        # (typed as a Table for Core statements)
CP = m.CustomerPhone


class DueCustomer(NamedTuple):
    """A customer whose reminder fell due, as the sweep took it (a plain row, no ORM object)."""
    id: int
    name: str
    phone: str
    owner: str | None
    status: str
    valid_until: datetime | None
    due_stage: int
    prev_owner: str | None
    prev_until: datetime | None
    lapse_due_at: datetime | None


DUE_COLUMNS = (C.id, C.name, C.phone, C.owner, C.status, C.valid_until, C.due_stage, C.prev_owner, C.prev_until,
               C.lapse_due_at)


@dataclass(frozen=True)
class Rescheduled:
    """What the sweep moved on for one taken customer: the next due time and stage, the lapse notice still due."""
    id: int
    due_at: datetime | None
    due_stage: int
    lapse_due_at: datetime | None

    def unchanged(self, row: DueCustomer) -> bool:
        """Nothing more to write after `take_due` (which left due_at empty)."""
        return self.due_at is None and self.due_stage == row.due_stage and self.lapse_due_at == row.lapse_due_at


_RESCHEDULE_PG = text(
    "UPDATE customers SET due_at = v.due, due_stage = v.stage, lapse_due_at = v.lapse "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:dues AS timestamp[]), CAST(:stages AS integer[]), "
    "CAST(:lapses AS timestamp[])) AS v(id, due, stage, lapse) WHERE customers.id = v.id")
_RESCHEDULE = (update(_T).where(_T.c.id == bindparam("cid"))
               .values(due_at=bindparam("due"), due_stage=bindparam("stage"), lapse_due_at=bindparam("lapse")))


_TAKE_DUE = (update(_T).where(_T.c.id.in_(
    select(_T.c.id).where(_T.c.project_id == bindparam("pid"), _T.c.due_at <= bindparam("now"))
    .order_by(_T.c.due_at, _T.c.id).limit(bindparam("lim")).scalar_subquery()))
    .values(due_at=None).returning(*(_T.c[c.key] for c in DUE_COLUMNS)))     # built once: every sweep step


# the command path's statements, built once (a statement built per call costs more than running it)
_BY_PHONE = (select(C).where(C.id.in_(union_all(                 # (both lookups indexed: no OR)
    select(C.id).where(C.project_id == bindparam("pid"), C.phone == bindparam("phone")),
    select(CP.customer_id).where(CP.project_id == bindparam("pid"), CP.phone == bindparam("phone")))))
    .order_by((C.phone == bindparam("phone")).desc()).limit(1))
_NAMED = select(C).where(C.project_id == bindparam("pid"), C.name == bindparam("name"))


class Customers:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Customer) -> m.Customer:
        self.s.add(row)
        return row

    def get(self, customer_id: int) -> m.Customer | None:
        return self.s.get(C, customer_id)

    def by_phone(self, project_id: int, phone: str) -> m.Customer | None:
        """The customer with this phone, their first or a further one (RULES §5.5): one statement, the
        first phone before a further one (each is unique in the project)."""
        return self.s.scalars(_BY_PHONE, {"pid": project_id, "phone": phone}).first()

    def phones_of(self, customer_id: int) -> list[str]:
        """The customer's further phones, in the order they were added."""
        return list(self.s.scalars(select(CP.phone).where(CP.customer_id == customer_id).order_by(CP.id)))

    def phone_rows(self, customer_id: int) -> list[m.CustomerPhone]:
        return list(self.s.scalars(select(CP).where(CP.customer_id == customer_id).order_by(CP.id)))

    def add_phone(self, project_id: int, customer_id: int, phone: str) -> None:
        self.s.add(CP(project_id=project_id, customer_id=customer_id, phone=phone))

    def delete(self, row) -> None:
        """A customer record merged into another (/核实 同一人), or a further phone corrected away."""
        self.s.delete(row)
        self.s.flush()

    def named(self, project_id: int, name: str) -> list[m.Customer]:
        return list(self.s.scalars(_NAMED, {"pid": project_id, "name": name}))

    def by_phone_parts(self, project_id: int, prefix: str, suffix: str) -> list[m.Customer]:
        """Customers whose phone starts with `prefix` and ends with `suffix` (digits only)."""
        pattern = f"{prefix}%{suffix}"
        extra = select(CP.customer_id).where(CP.project_id == project_id, CP.phone.like(pattern))
        return list(self.s.scalars(select(C).where(
            C.project_id == project_id, C.phone.like(pattern) | C.id.in_(extra)).order_by(C.id)))

    def by_ids(self, ids: Iterable[int]) -> dict[int, m.Customer]:
        return {c.id: c for c in self.s.scalars(select(C).where(C.id.in_(ids)))}

    def of_project(self, project_id: int) -> list[m.Customer]:
        return list(self.s.scalars(select(C).where(C.project_id == project_id).order_by(C.id)))

    def take_due(self, project_id: int, now: datetime, limit: int = 500) -> list[DueCustomer]:
        """The customers whose reminder is due by `now` (at most `limit`, earliest first), taken in one
        UPDATE … RETURNING that empties their due time (the caller sets the next with `reschedule`).
        Plain rows: no ORM objects, no before-images (a reminder is never undone); a loaded object
        of a taken row is expired, so the session does not keep its old due time."""
        self.s.flush()                  # (the statement below bypasses the session)
        rows = self.s.execute(_TAKE_DUE, {"pid": project_id, "now": now, "lim": limit}).all()
        # RETURNING has no order: a step runs at the earliest due time, so every row taken is due at that
        # one instant, in id order (as the index gives the ties)
        taken = sorted((DueCustomer(*r) for r in rows), key=lambda r: r.id)
        self._expire({r.id for r in taken})
        return taken

    def reschedule(self, moved: list[Rescheduled]) -> None:
        """The next due times of taken customers: one statement (PostgreSQL: one UPDATE … FROM unnest of
        arrays, a single round trip; SQLite: one executemany, in process)."""
        if not moved:
            return
        if self.s.get_bind().dialect.name != "postgresql":
            self.s.execute(_RESCHEDULE, [{"cid": r.id, "due": r.due_at, "stage": r.due_stage,
                                          "lapse": r.lapse_due_at} for r in moved])
            return
        utc = m.UTCDateTime().process_bind_param
        self.s.execute(_RESCHEDULE_PG, {"ids": [r.id for r in moved], "dues": [utc(r.due_at, None) for r in moved],
                                        "stages": [r.due_stage for r in moved],
                                        "lapses": [utc(r.lapse_due_at, None) for r in moved]})

    def _expire(self, ids: set[int]) -> None:
        for obj in list(self.s.identity_map.values()):
            if isinstance(obj, C) and obj.id in ids:
                self.s.expire(obj, ["due_at", "due_stage", "lapse_due_at"])

    def active_of(self, project_id: int, owner: str) -> list[m.Customer]:
        """Rows still marked active for `owner` (the caller checks the validity)."""
        return list(self.s.scalars(select(C).where(
            C.project_id == project_id, C.owner == owner, C.status == CustomerStatus.ACTIVE)
            .order_by(C.id)).all())

    def owned_by(self, project_id: int, owner: str) -> list[m.Customer]:
        """Rows naming `owner`, soonest deadline first (the caller checks the validity)."""
        return list(self.s.scalars(select(C).where(C.project_id == project_id, C.owner == owner)
                                   .order_by(C.valid_until)).all())

    def lapsing_at(self, project_id: int, deadline: datetime) -> list[m.Customer]:
        return list(self.s.scalars(select(C).where(
            C.project_id == project_id, C.status == CustomerStatus.ACTIVE, C.valid_until == deadline)).all())
