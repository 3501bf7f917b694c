"""The change log (RULES §9): one row per change, with the before-images /撤销 restores."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from rules.enums import AuditKind
from storage import models as m

A = m.Audit
_WRITE = insert(cast(Table, A.__table__)).returning(A.__table__.c.id)     # built once: every changing command writes one


@dataclass(frozen=True)
class Entry:
    """What one change-log row says: who did what, why, and how to undo it (None: an undo)."""
    actor: str
    command: str
    reasons: list[str]
    kind: AuditKind
    undo: dict | None


class AuditLog:
    def __init__(self, s: Session):
        self.s = s

    def record(self, project_id: int, at: datetime, entry: Entry) -> m.Audit:
        """The one place a change-log row is built; `at` is local time (its date is the row's day)."""
        row = A(project_id=project_id, day=at.date(), at=at, actor=entry.actor, command=entry.command,
                reasons=entry.reasons, undo=entry.undo, kind=entry.kind)
        self.s.add(row)
        return row

    def write(self, project_id: int, at: datetime, entry: Entry) -> int:
        """`record` as one prebuilt INSERT on the session's connection, for a row nothing reads back as an
        object in its transaction (a command's own): the new row's id."""
        return self.s.connection().execute(_WRITE, dict(
            project_id=project_id, day=at.date(), at=at, actor=entry.actor, command=entry.command,
            reasons=entry.reasons, undo=entry.undo, kind=entry.kind, undone_by=None)).scalar_one()

    def of_day(self, project_id: int, day: date, newest_first: bool = False) -> list[m.Audit]:
        order = A.id.desc() if newest_first else A.id
        return list(self.s.scalars(select(A).where(A.project_id == project_id, A.day == day).order_by(order)).all())

    def last_at(self, project: str) -> datetime | None:
        """The time of the project's latest change."""
        return self.s.scalar(select(func.max(A.at)).join(m.Project).where(m.Project.name == project))
