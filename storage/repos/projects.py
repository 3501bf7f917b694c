"""Projects, the chats bound to them, what falls due next, and the platform deliveries handled."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.orm import Session

from storage import models as m
from storage.repos.dialect import insert_or_update, insert_unless_taken
from storage.repos.results import by_id_params, columns, update_by_id

P, B = m.Project, m.ChatBinding
_T = cast(Table, P.__table__)
SAVED = ("state", "next_open_at", "next_summary_at", "due_version")      # what a command or a step may change
# the command path's statements, built once (a statement built per call costs more than running it)
_LOCKED = select(_T.c.id, _T.c.name, _T.c.roster_version, *(_T.c[k] for k in SAVED)).where(_T.c.name == bindparam("name"))
_LOCKED_FOR_UPDATE = _LOCKED.with_for_update()
_EARLIEST = select(
    select(func.min(m.Customer.due_at)).where(m.Customer.project_id == bindparam("pid")).scalar_subquery(),
    select(func.min(m.Reception.nudge_at)).where(m.Reception.project_id == bindparam("pid")).scalar_subquery())
_NAME_OF_CHAT = select(P.name).join(B, B.project_id == P.id).where(B.platform == bindparam("platform"),
                                                                      B.chat_id == bindparam("chat_id"))


@dataclass(eq=False)
class ProjectRow:
    """The locked project's row, as a command or a scheduled step works with it: read with one prebuilt
    SELECT (not an ORM object: loading one cost as much again as the statement), written back by
    `Projects.save_state` (the columns that changed since it was read or saved, in one UPDATE)."""
    id: int
    name: str
    roster_version: int
    state: dict
    next_open_at: datetime | None
    next_summary_at: datetime | None
    due_version: int
    saved: dict = field(default_factory=dict, repr=False)      # SAVED as the database has them

    def __post_init__(self) -> None:
        self.saved = {k: getattr(self, k) for k in SAVED}


class Projects:
    def __init__(self, s: Session):
        self.s = s
        self._ids: dict[str, int] = {}        # names → ids of the rows this unit of work has locked


    def add(self, row: m.Project) -> m.Project:
        self.s.add(row)
        self.s.flush()
        return row

    def named(self, name: str) -> m.Project | None:
        return self.s.scalars(select(P).where(P.name == name)).first()

    def the_one_named(self, name: str) -> m.Project:
        """The project called `name` (NoResultFound if there is none)."""
        return self.s.scalars(select(P).where(P.name == name)).one()

    def locked(self, name: str, for_update: bool) -> ProjectRow | None:
        """The project's row; `for_update`: locked for this transaction (PostgreSQL)."""
        found = columns(self.s, _LOCKED_FOR_UPDATE if for_update else _LOCKED, {"name": name}).first()
        if found is None:
            return None
        self._ids[name] = found[0]
        return ProjectRow(*found)

    def save_state(self, row: ProjectRow, state: dict, sooner: bool = False) -> None:
        """The day's state, the next opening and 日报 times as set on the row, and, `sooner`: a reminder now
        falls due sooner than it did, the project's due_version + 1 (bot/scheduled.py): those that changed,
        in one UPDATE on the session's connection (none when nothing did)."""
        row.state = state
        if sooner:
            row.due_version += 1
        changed = {k: getattr(row, k) for k in SAVED if getattr(row, k) != row.saved[k]}
        if changed:
            self.s.connection().execute(update_by_id(_T, tuple(changed)), by_id_params(row.id, changed))
            row.saved.update(changed)

    def id_of(self, name: str) -> int | None:
        """The project's id; no statement for the project this unit of work has locked (every command's)."""
        if name in self._ids:
            return self._ids[name]
        return self.s.scalar(select(P.id).where(P.name == name))

    def schedule_of(self, name: str):
        """(id, next_open_at, next_summary_at, due_version) of the project, or None."""
        return self.s.execute(select(P.id, P.next_open_at, P.next_summary_at, P.due_version)
                              .where(P.name == name)).first()

    def earliest_reminders(self, project_id: int) -> tuple[datetime | None, datetime | None]:
        """(earliest customer reminder, earliest reception nudge): one statement on indexed columns."""
        return cast(tuple[datetime | None, datetime | None], tuple(columns(self.s, _EARLIEST, {"pid": project_id}).one()))

    def schedules(self) -> list[tuple[str, int, datetime | None, datetime | None, datetime | None, datetime | None]]:
        """Every project's (name, due_version, next opening, next 日报, earliest customer reminder, earliest
        nudge): one statement for all projects, two indexed minimums each (the idle sweep is this statement
        alone)."""
        cust = select(func.min(m.Customer.due_at)).where(m.Customer.project_id == P.id).scalar_subquery()
        nudge = select(func.min(m.Reception.nudge_at)).where(m.Reception.project_id == P.id).scalar_subquery()
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in self.s.execute(
            select(P.name, P.due_version, P.next_open_at, P.next_summary_at, cust, nudge))]

    # ---- chats ------------------------------------------------------------------------------
    def binding(self, platform: str, chat_id: str) -> m.ChatBinding | None:
        return self.s.get(B, (platform, chat_id))

    def bind(self, platform: str, chat_id: str, project_id: int) -> None:
        self.s.add(B(platform=platform, chat_id=chat_id, project_id=project_id))

    def name_of_chat(self, platform: str, chat_id: str) -> str | None:
        return columns(self.s, _NAME_OF_CHAT, {"platform": platform, "chat_id": chat_id}).scalar()

    def chat_bindings(self) -> list[tuple[str, str, str]]:
        """(platform, chat id, project name) of every bound chat."""
        return [(a, b, c) for a, b, c in self.s.execute(select(B.platform, B.chat_id, P.name).join(P, P.id == B.project_id))]

    def chats_of(self, platform: str, project: str) -> list[str]:
        return list(self.s.scalars(select(B.chat_id).join(P, P.id == B.project_id).where(
            B.platform == platform, P.name == project)))


class Events:
    """Platform deliveries: stored before they are acknowledged, claimed by the command that handles
    them (each delivery runs once)."""

    def __init__(self, s: Session):
        self.s = s

    def store(self, event_id: str, at: datetime, payload: str) -> bool:
        """Keep a delivery that is not handled yet; False when it was stored (or handled) before."""
        e = m.ProcessedEvent
        values = {"event_id": event_id, "at": at, "payload": payload, "handled": False}
        return insert_unless_taken(self.s, e, "event_id", e.event_id, values) is not None

    def claim(self, event_id: str, now: datetime) -> bool:
        """Mark a delivery handled (a stored one, or record it now); False when it was handled before."""
        return insert_or_update(self.s, m.ProcessedEvent, "event_id", {"event_id": event_id, "at": now},
                                where=(("handled", False),), set_=(("handled", True), ("payload", None)))

    def pending(self, limit: int) -> list[str]:
        """The payloads of stored deliveries not handled yet, oldest first."""
        e = m.ProcessedEvent
        q = select(e.payload).where(e.handled.is_(False)).order_by(e.at, e.event_id).limit(limit)
        return [p for p in self.s.scalars(q) if p]

    def forget_before(self, cutoff: datetime) -> None:
        self.s.execute(delete(m.ProcessedEvent).where(m.ProcessedEvent.at < cutoff))
