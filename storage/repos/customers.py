"""The customer register (RULES §5): lookups by phone, name and owner, and the reminder sweep."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.enums import CustomerStatus
from storage import models as m

C = m.Customer
CP = m.CustomerPhone


class Customers:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Customer) -> m.Customer:
        self.s.add(row)
        return row

    def get(self, customer_id: int) -> m.Customer | None:
        return self.s.get(C, customer_id)

    def by_phone(self, project_id: int, phone: str) -> m.Customer | None:
        """The customer with this phone, their first or a further one (RULES §5.5)."""
        row = self.s.scalars(select(C).where(C.project_id == project_id, C.phone == phone)).first()
        if row is not None:
            return row
        return self.s.scalars(select(C).join(CP, CP.customer_id == C.id).where(
            CP.project_id == project_id, CP.phone == phone)).first()

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
        return list(self.s.scalars(select(C).where(C.project_id == project_id, C.name == name)))

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

    def reminders_due(self, project_id: int, now: datetime, limit: int = 500) -> list[m.Customer]:
        return list(self.s.scalars(select(C).where(C.project_id == project_id, C.due_at <= now)
                                   .order_by(C.due_at).limit(limit)).all())

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
