"""Deals and their appeals (RULES §6)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import models as m

D = m.Deal


class Deals:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Deal | m.Appeal) -> m.Deal | m.Appeal:
        self.s.add(row)
        return row

    def of_customer_on(self, customer_id: int, day: date) -> m.Deal | None:
        return self.s.scalars(select(D).where(D.customer_id == customer_id, D.day == day)).first()

    def count_of_customer_on(self, customer_id: int, day: date) -> int:
        return self.s.scalar(select(func.count()).select_from(D).where(D.customer_id == customer_id, D.day == day)) or 0

    def of_customer(self, customer_id: int) -> list[m.Deal]:
        return list(self.s.scalars(select(D).where(D.customer_id == customer_id).order_by(D.id)))

    def latest_of(self, customer_id: int) -> m.Deal | None:
        return self.s.scalars(select(D).where(D.customer_id == customer_id).order_by(D.id.desc())).first()

    def on_day(self, project_id: int, day: date) -> list[m.Deal]:
        return list(self.s.scalars(select(D).where(D.project_id == project_id, D.day == day)).all())

    def between(self, project_id: int, start: date, end: date) -> list[m.Deal]:
        return list(self.s.scalars(select(D).where(
            D.project_id == project_id, D.day >= start, D.day <= end).order_by(D.id)).all())

    def of_project(self, project_id: int) -> list[m.Deal]:
        return list(self.s.scalars(select(D).where(D.project_id == project_id).order_by(D.id)))

    def appeal_by(self, deal_id: int, by: str) -> m.Appeal | None:
        """`by`'s appeal against this deal, if already filed (one open appeal per deal and person)."""
        A = m.Appeal
        return self.s.scalars(select(A).where(A.deal_id == deal_id, A.by == by).order_by(A.id)).first()

    def appeal_on(self, customer_id: int, by: str, since: datetime) -> m.Appeal | None:
        """`by`'s appeal of this customer's ownership since `since` (its registration), if filed."""
        A = m.Appeal
        return self.s.scalars(select(A).where(A.customer_id == customer_id, A.by == by, A.at >= since)
                              .order_by(A.id)).first()
