"""Outbox rows: written under a unique key, claimed, re-claimed after a lease, marked sent or failed."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage import models as m
from storage.repos.dialect import insert_many_unless_taken, insert_unless_taken
from storage.repos.results import rowcount

Ob = m.Outbox
_MARK_ALL_SENT = update(Ob).where(Ob.sent_at.is_(None)).values(sent_at=bindparam("now"))     # built once: every
_MARK_SENT = _MARK_ALL_SENT.where(Ob.key.in_(bindparam("keys", expanding=True)))          # reply is marked


class OutboxRows:
    def __init__(self, s: Session):
        self.s = s

    def add(self, values: dict) -> bool:
        """Write a message under its key; False when the key is taken."""
        return insert_unless_taken(self.s, Ob, "key", Ob.id, values) is not None   # (rowcount is -1 on psycopg)

    def add_many(self, rows: list[dict]) -> set[str]:
        """Write messages in one statement; the keys written (a taken key is left out)."""
        return insert_many_unless_taken(self.s, Ob, "key", Ob.key, rows) if rows else set()

    def due_again(self, now: datetime, lease: timedelta, limit: int) -> list[tuple[m.Outbox, str | None]]:
        """(row, project name) of unsent messages whose retry time has come, oldest first."""
        q = (select(Ob, m.Project.name).outerjoin(m.Project, m.Project.id == Ob.project_id)
             .where(Ob.sent_at.is_(None), Ob.failed_at.is_(None), Ob.dropped_at.is_(None),
                    or_(Ob.retry_at <= now,     # (rows from before retry_at: by claim)
                        and_(Ob.retry_at.is_(None), Ob.claimed_at < now - lease)))
             .order_by(Ob.id).limit(limit))
        return [(row, name) for row, name in self.s.execute(q)]

    def take(self, row: m.Outbox, now: datetime, worker: str, retry_at: datetime) -> bool:
        """Claim `row` for one more send (False: another process took it first)."""
        return rowcount(self.s.execute(update(Ob).where(Ob.id == row.id, Ob.attempts == row.attempts, Ob.sent_at.is_(None))
                                   .values(claimed_at=now, claimed_by=worker, attempts=row.attempts + 1,
                                           retry_at=retry_at))) > 0

    def give_up(self, row: m.Outbox, now: datetime) -> bool:
        """Mark `row` failed (False: another process did)."""
        return rowcount(self.s.execute(update(Ob).where(Ob.id == row.id, Ob.failed_at.is_(None))
                                   .values(failed_at=now))) > 0

    def mark_sent(self, keys: list[str] | None, now: datetime) -> None:
        """On the session's connection: through the session, the ORM would first look for loaded outbox
        rows to update in memory (evaluating the WHERE in Python), half the statement's time; the
        transaction that marks holds none."""
        if keys is None:
            self.s.connection().execute(_MARK_ALL_SENT, {"now": now})
        elif keys:
            self.s.connection().execute(_MARK_SENT, {"now": now, "keys": keys})

    def unsent(self, keys: list[str]) -> list[m.Outbox]:
        return list(self.s.scalars(select(Ob).where(Ob.key.in_(keys), Ob.sent_at.is_(None))))

    def drop_stale(self, project_id: int, kinds, today: date, now: datetime) -> dict[str, int]:
        """Mark the project's unsent rows of these kinds from before `today` dropped; {kind: how many}."""
        which = (Ob.project_id == project_id, Ob.sent_at.is_(None), Ob.failed_at.is_(None),
                 Ob.dropped_at.is_(None), Ob.kind.in_([str(k) for k in kinds]), Ob.day < today)
        counts = {str(k): n for k, n in self.s.execute(select(Ob.kind, func.count()).where(*which).group_by(Ob.kind))}
        if counts:
            self.s.execute(update(Ob).where(*which).values(dropped_at=now))
        return counts

    def drop(self, row: m.Outbox, now: datetime) -> bool:
        """Mark one row dropped (False: sent, given up or dropped by another process meanwhile)."""
        return rowcount(self.s.execute(update(Ob).where(Ob.id == row.id, Ob.sent_at.is_(None), Ob.dropped_at.is_(None))
                                   .values(dropped_at=now))) > 0

    def sent_keys(self, keys: list[str]) -> set[str]:
        return set(self.s.scalars(select(Ob.key).where(Ob.key.in_(keys), Ob.sent_at.is_not(None))))

    def health(self, now: datetime, late: timedelta) -> dict[str, float]:
        """/metrics and /readyz: unsent messages (pending), those sent at least twice (retrying), those given
        up (failed), and how many pending ones were due more than `late` ago (late) and the oldest's age (s)."""
        open_ = (Ob.sent_at.is_(None), Ob.failed_at.is_(None), Ob.dropped_at.is_(None), Ob.due_at <= now)
        pending, retrying, oldest = self.s.execute(
            select(func.count(), func.count().filter(Ob.attempts > 1), func.min(Ob.due_at)).where(*open_)).one()
        late_n = self.s.scalar(select(func.count()).where(*open_, Ob.due_at < now - late))
        failed = self.s.scalar(select(func.count()).where(Ob.failed_at.is_not(None)))
        age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
        return {"pending": pending, "retrying": retrying, "failed": failed or 0, "late": late_n or 0, "oldest_seconds": age}


def _aware(t: datetime) -> datetime:
    """A stored UTC time, zoned (an aggregate may come back without the column's type)."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
