"""Dated facts (registrations, lapses): appended when they happen, read by storage/reports.py."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.customers import Fact
from storage import models as m


class Facts:
    def __init__(self, s: Session):
        self.s = s

    def add(self, project_id: int, customer_id: int, fact: Fact) -> None:
        """Append `fact` once (the same customer, kind and time is the same fact)."""
        F = m.Fact
        seen = self.s.scalar(select(F.id).where(F.customer_id == customer_id, F.kind == fact.kind, F.at == fact.at))
        if seen is None:
            self.s.add(F(project_id=project_id, customer_id=customer_id, kind=fact.kind, member=fact.member,
                         at=fact.at))
