"""Dated facts (registrations, lapses): appended when they happen, read by storage/reports.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.customers import Fact
from rules.enums import FactKind
from storage import models as m


class Facts:
    def __init__(self, s: Session):
        self.s = s

    def add(self, project_id: int, customer_id: int, fact: Fact, first: bool = False) -> None:
        """Append `fact` once (the same customer, kind and time is the same fact); `first`: the customer's
        row was created in this transaction, so it has no facts yet."""
        F = m.Fact
        if first or self.s.scalar(select(F.id).where(F.customer_id == customer_id, F.kind == fact.kind,
                                                     F.at == fact.at)) is None:
            self.s.add(F(project_id=project_id, customer_id=customer_id, kind=fact.kind, member=fact.member,
                         at=fact.at))

    def drop(self, fact: m.Fact) -> None:
        self.s.delete(fact)

    def of_customer(self, customer_id: int) -> list[m.Fact]:
        return list(self.s.scalars(select(m.Fact).where(m.Fact.customer_id == customer_id)))

    def registrations_between(self, project_id: int, lo: datetime, hi: datetime) -> list[tuple[m.Fact, m.Customer]]:
        """Every registration made in [lo, hi), oldest first, with the customer it registered."""
        F = m.Fact
        return [(f, c) for f, c in self.s.execute(
            select(F, m.Customer).join(m.Customer, m.Customer.id == F.customer_id)
            .where(F.project_id == project_id, F.kind == FactKind.REGISTERED, F.at >= lo, F.at < hi)
            .order_by(F.at, F.id))]
