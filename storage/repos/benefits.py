"""Rows the manager reads at a glance (RULES §6.2, §9a): relatives, benefits, 外出/暂离."""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage import models as m

B, A, RL = m.BenefitRow, m.Away, m.Relative
_AWAY_OPEN = (select(A).where(A.project_id == bindparam("pid"), A.member == bindparam("member"), A.ended_at.is_(None))
              .order_by(A.id.desc()))       # (签到 and every presence change look: built once)


class Relatives:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Relative) -> m.Relative:
        self.s.add(row)
        return row

    def of_customer(self, customer_id: int) -> list[m.Relative]:
        return list(self.s.scalars(select(RL).where(RL.customer_id == customer_id)))

    def by_phone(self, project_id: int, phone: str) -> m.Relative | None:
        return self.s.scalars(select(RL).where(RL.project_id == project_id, RL.phone == phone)
                              .order_by(RL.id)).first()


class Benefits:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.BenefitRow) -> m.BenefitRow:
        self.s.add(row)
        self.s.flush()
        return row

    def standing(self, project_id: int, day: date, member: str) -> list[m.BenefitRow]:
        """`member`'s benefits of `day` not withdrawn, latest first."""
        return list(self.s.scalars(select(B).where(
            B.project_id == project_id, B.day == day, B.member == member, B.withdrawn_by.is_(None))
            .order_by(B.id.desc())))

    def on_day(self, project_id: int, day: date) -> list[m.BenefitRow]:
        return list(self.s.scalars(select(B).where(B.project_id == project_id, B.day == day).order_by(B.id)))

    def unused_makeup(self, project_id: int, member: str) -> m.BenefitRow | None:
        """`member`'s latest make-up not withdrawn and not used yet (one is held at a time)."""
        return self.s.scalars(select(B).where(
            B.project_id == project_id, B.member == member, B.makeup.is_(True), B.used_day.is_(None),
            B.withdrawn_by.is_(None)).order_by(B.id.desc())).first()


class Aways:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Away) -> m.Away:
        self.s.add(row)
        return row

    def open_of(self, project_id: int, member: str) -> m.Away | None:
        return self.s.scalars(_AWAY_OPEN, {"pid": project_id, "member": member}).first()

    def on_day(self, project_id: int, day: date) -> list[m.Away]:
        return list(self.s.scalars(select(A).where(A.project_id == project_id, A.day == day).order_by(A.id)))
