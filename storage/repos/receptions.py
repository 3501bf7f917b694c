"""Receptions: who received whom, when, and in which category (RULES §4)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from rules.enums import Category
from rules.queue import DayFacts
from storage import models as m
from storage.repos.results import columns

R = m.Reception
# the command path's statements, built once (a statement built per call costs more than running it)
_OPEN_OF = select(R).where(R.project_id == bindparam("pid"), R.member == bindparam("member"),
                           R.ended_at.is_(None)).order_by(R.id)
_FACTS_OF_DAY = (select(R.id, R.member, R.counted_for, R.ended_at.is_(None))    # (whether open: no time to parse)
                 .where(R.project_id == bindparam("pid"), R.day == bindparam("day")).order_by(R.id))


class Receptions:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Reception) -> m.Reception:
        self.s.add(row)
        self.s.flush()                  # the caller needs the new row's id
        return row

    def get(self, reception_id: int) -> m.Reception | None:
        return self.s.get(R, reception_id)

    def of_customer(self, customer_id: int) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(R.customer_id == customer_id).order_by(R.id)))

    def open_of(self, project_id: int, member: str) -> list[m.Reception]:
        return list(self.s.scalars(_OPEN_OF, {"pid": project_id, "member": member}))

    def open_of_customer(self, project_id: int, customer_id: int) -> m.Reception | None:
        return self.s.scalars(select(R).where(
            R.project_id == project_id, R.customer_id == customer_id, R.ended_at.is_(None))).first()

    def left_open_before(self, project_id: int, day: date) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(
            R.project_id == project_id, R.ended_at.is_(None), R.day < day)))

    def count_of_customer_on(self, project_id: int, customer_id: int, day: date) -> int:
        return self.s.scalar(select(func.count()).select_from(R).where(
            R.project_id == project_id, R.customer_id == customer_id, R.day == day)) or 0

    def facts_of_day(self, project_id: int, day: date) -> DayFacts:
        """Each member's counted receptions of `day` and their receptions of it still open (one
        query on ix_receptions_day): what the day's queue shows, from the rows themselves."""
        counted: dict[str, int] = {}
        open_: dict[str, list[int]] = {}
        for rid, member, counted_for, is_open in columns(self.s, _FACTS_OF_DAY, {"pid": project_id, "day": day}):
            if counted_for:
                counted[counted_for] = counted.get(counted_for, 0) + 1
            if is_open:
                open_.setdefault(member, []).append(rid)
        return DayFacts(counted, open_)

    def last_ended(self, project_id: int, member: str, day: date) -> m.Reception | None:
        return self.s.scalars(select(R).where(
            R.project_id == project_id, R.member == member, R.day == day,
            R.ended_at.is_not(None)).order_by(R.id.desc())).first()

    def latest_open_non_buyer(self, project_id: int, day: date) -> m.Reception | None:
        return self.s.scalars(select(R).where(
            R.project_id == project_id, R.day == day, R.category == Category.NON_BUYER, R.ended_at.is_(None))
            .order_by(R.id.desc())).first()

    def nudges_due(self, project_id: int, now: datetime) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(
            R.project_id == project_id, R.nudge_at <= now, R.ended_at.is_(None))).all())

    def of_customer_by_others(self, customer_id: int, day: date, owner: str) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(
            R.customer_id == customer_id, R.day == day, R.member != owner)).all())

    def obligations(self, customer_id: int, day: date, member: str) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(
            R.customer_id == customer_id, R.day == day, R.member == member,
            R.category == Category.OBLIGATION)).all())

    def latest_helper(self, customer_id: int, day: date, owner: str, roster: list[str]) -> m.Reception | None:
        """The latest helper or obligation reception of the customer that day by another roster member."""
        return self.s.scalars(select(R).where(
            R.customer_id == customer_id, R.day == day,
            R.category.in_((Category.HELPER, Category.OBLIGATION)), R.member != owner,
            R.member.in_(roster)).order_by(R.id.desc())).first()

    def on_day(self, project_id: int, day: date) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(R.project_id == project_id, R.day == day)).all())

    def between(self, project_id: int, start: date, end: date) -> list[m.Reception]:
        return list(self.s.scalars(select(R).where(
            R.project_id == project_id, R.day >= start, R.day <= end).order_by(R.started_at)).all())
