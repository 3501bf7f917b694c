"""One unit of work per command: lock the project, change, log the change, commit — or nothing.

The change log row carries before-images of every row the command touched, so
/撤销 restores them exactly (RULES §9).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, cast

from sqlalchemy import Engine, Table, event, inspect, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError

from storage.models import (
    Appeal,
    Away,
    Base,
    BenefitRow,
    ChatBinding,
    Customer,
    CustomerPhone,
    Deal,
    Fact,
    Member,
    Project,
    Reception,
    Relative,
)
from storage.repos.audit import AuditLog
from storage.repos.benefits import Aways, Benefits, Relatives
from storage.repos.customers import Customers
from storage.repos.deals import Deals
from storage.repos.facts import Facts
from storage.repos.links import Links
from storage.repos.members import Members
from storage.repos.outbox import OutboxRows
from storage.repos.projects import Events, ProjectRow, Projects
from storage.repos.receptions import Receptions
from storage.repos.results import by_id_params, update_by_id
from storage.repos.views import Boards, ReportFigures

TRACKED = {m.__tablename__: m for m in (Customer, CustomerPhone, Reception, Deal, Appeal, Member, Fact, Relative,
                                        BenefitRow, Away)}
# parents before children (foreign keys): customers before receptions and deals, deals before appeals
RANK = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}


class Savepoint(Protocol):
    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Reminders:
    """How the reminder times (customers.due_at, receptions.nudge_at) moved in one unit of work: the soonest
    time set, the soonest time taken away (a reminder cleared or moved), whether a row's former time was not
    known (then only a fresh read tells the project's next due time: bot/scheduled.py), and whether any
    row now falls due sooner than it did (a new one, or moved earlier: other processes must read again)."""

    COLUMNS = {"customers": "due_at", "receptions": "nudge_at"}

    def __init__(self):
        self.soonest_set: datetime | None = None
        self.soonest_cleared: datetime | None = None
        self.unknown = False
        self.sooner = False

    def note(self, obj, state: str) -> None:
        """`obj` is about to be flushed: `state` is "new", "dirty" or "deleted"."""
        col = self.COLUMNS.get(getattr(obj, "__tablename__", ""))
        if col is None:
            return
        if state == "new":
            self.moved(None, getattr(obj, col))
            return
        committed = inspect(obj).committed_state               # (the committed values of changed columns)
        old = committed.get(col, NO_VALUE)
        if state == "deleted":
            self.moved(getattr(obj, col) if old is NO_VALUE else old, None)
        elif col in committed and (old is NO_VALUE or old != getattr(obj, col)):
            self.moved(None if old is NO_VALUE else old, getattr(obj, col))
            if old is NO_VALUE:
                self.unknown = True     # set without its former value loaded: the former is not known

    def moved(self, old: datetime | None, new: datetime | None) -> None:
        """One row's reminder time went from `old` to `new` (None: none; a new row's `old` is None)."""
        if new is not None and (self.soonest_set is None or new < self.soonest_set):
            self.soonest_set = new
        if old is not None and (self.soonest_cleared is None or old < self.soonest_cleared):
            self.soonest_cleared = old
        self.sooner = self.sooner or (new is not None and (old is None or new < old))


class Duplicate(Exception):
    """This platform event was handled before."""


class Units:
    """Makes the units of work on one engine: what the composition root gives the bus (App, Scheduled,
    Outbox, Identities), which never build one themselves; the handler tests give tests/unit/fakes.py's."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __call__(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, readonly)


class UnitOfWork:
    """`readonly=True`: a lookup that changes nothing (no write lock on SQLite)."""

    def __init__(self, engine: Engine, readonly: bool = False):
        self.engine = engine
        factories = engine.__dict__.setdefault("_reception_sessions", {})   # one sessionmaker per engine
        if readonly not in factories:
            bind = engine.execution_options(readonly=True) if readonly else engine
            factories[readonly] = sessionmaker(bind, expire_on_commit=False, autoflush=True)
            event.listen(factories[readonly], "before_flush", _before_flush)    # (once, not per session)
        self._factory = factories[readonly]
        self.postgres = engine.dialect.name == "postgresql"

    def __enter__(self) -> UnitOfWork:
        self.session: Session = self._factory()
        self._images: dict[tuple[str, int], dict] = {}
        self._new: list = []
        self.roster_changed = False     # a member was added, changed or removed in this transaction
        self.reminders = Reminders()    # how reminder times moved in this transaction (bot/scheduled.py)
        self.session.info["uow"] = self
        self.session.begin()
        s = self.session
        self.projects, self.events, self.members, self.links = Projects(s), Events(s), Members(s), Links(s)
        self.customers, self.receptions, self.deals, self.facts = Customers(s), Receptions(s), Deals(s), Facts(s)
        self.audit, self.outbox = AuditLog(s), OutboxRows(s)
        self.relatives, self.benefits, self.aways = Relatives(s), Benefits(s), Aways(s)
        self.report_figures, self.boards = ReportFigures(s), Boards(s)
        return self

    def _before_flush(self, session, _ctx, _instances) -> None:
        """Remember the first before-image of every tracked row this unit of work touches, and how the
        reminder times moved; then write the changed rows (`_write_changed`: the ORM inserts and deletes)."""
        new, deleted = list(session.new), list(session.deleted)
        changed = {obj: _changed(inspect(obj)) for obj in session.dirty}    # (a column set to its value: {})
        for obj in new:
            self.reminders.note(obj, "new")
        for obj in changed:
            self.reminders.note(obj, "dirty")
        for obj in deleted:
            self.reminders.note(obj, "deleted")
        touched = [*(o for o, values in changed.items() if values), *deleted]
        for obj in touched:
            table = getattr(obj, "__tablename__", None)
            if table in TRACKED and obj not in self._new and (table, obj.id) not in self._images:
                self._images[(table, obj.id)] = _before(obj)
        self._new += [o for o in new if getattr(o, "__tablename__", None) in TRACKED]
        self._roster_changes(session, [*new, *touched])
        for obj, values in changed.items():
            _write_changed(session, obj, values)

    def _roster_changes(self, session, changed: list) -> None:
        """A member added, changed or removed, or a chat bound to a project (/绑定), bumps the project's
        roster_version in the same transaction: every process keeps the roster and who its senders are
        (bot/identity.py) in memory until the version it reads with the project lock differs."""
        ids = {o.project_id for o in changed if isinstance(o, Member | ChatBinding)}   # (set to its value: no)
        ids |= {old for o in changed if isinstance(o, ChatBinding)                      # (a chat moved away)
                for old in inspect(o).attrs.project_id.history.deleted}
        for project_id in sorted(i for i in ids if i is not None):
            session.connection().execute(update(Project).where(Project.id == project_id)
                                         .values(roster_version=Project.roster_version + 1))
            self.roster_changed = True

    def __exit__(self, exc_type, *_):
        if exc_type is not None or self.session.in_transaction():
            self.session.rollback()
        self.session.close()

    def lock_project(self, name: str) -> ProjectRow | None:
        """The project's row, locked for this transaction (SQLite: BEGIN IMMEDIATE already holds it)."""
        return self.projects.locked(name, for_update=self.postgres)

    def claim_event(self, event_id: str, now: datetime) -> None:
        """Record a platform delivery in this transaction; a second delivery raises Duplicate."""
        if not self.events.claim(event_id, now):
            raise Duplicate(event_id)

    def changes(self) -> list[list]:
        """[table, id, before-image or None for a new row] for every tracked row changed so far."""
        self.session.flush()
        return ([[t, i, img] for (t, i), img in self._images.items()]
                + [[o.__tablename__, o.id, None] for o in self._new])

    def forget_changes(self) -> None:
        """Start a new change set inside the same transaction (scheduled work before a command)."""
        self.session.flush()
        self._images, self._new = {}, []
        self.reminders = Reminders()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        """Undo everything this unit of work did (it can be committed no more)."""
        self.session.rollback()

    def savepoint(self) -> Savepoint:
        """A nested transaction: its changes go back alone (a refused command after scheduled work)."""
        return self.session.begin_nested()

    def flush(self) -> None:
        """Send the changes so far (new rows get their ids)."""
        self.session.flush()

    def restore(self, images: list[list]) -> None:
        """Put rows back as they were, respecting foreign keys in both directions: first the rows
        that existed (parents before children, so a re-inserted child finds its parent and a child
        stops pointing at a new row), then delete the rows the change created (children first)."""
        old = sorted((x for x in images if x[2] is not None), key=lambda x: RANK[x[0]])
        new = sorted((x for x in images if x[2] is None), key=lambda x: -RANK[x[0]])
        for table, row_id, before in old:
            model = TRACKED[table]
            obj = self.session.get(model, row_id)
            if obj is None:
                obj = model(id=row_id)
                self.session.add(obj)
            for key, value in before.items():
                setattr(obj, key, _from_json(model, key, value))
            self.session.flush()
        for table, row_id, _ in new:
            obj = self.session.get(TRACKED[table], row_id)
            if obj is not None:
                self.session.delete(obj)
                self.session.flush()


def _before_flush(session, ctx, instances) -> None:
    uow = session.info.get("uow")
    if uow is not None:
        uow._before_flush(session, ctx, instances)


def _changed(state) -> dict:
    """{attribute: new value} of the columns whose value changed since the row was loaded or written (the
    ORM's test: `==` against the committed value; a value set without the former one loaded counts)."""
    d = state.dict
    return {key: d.get(key) for key, old in state.committed_state.items()
            if key in state.mapper.column_attrs and (old is NO_VALUE or d.get(key) != old)}


def _write_changed(session: Session, obj, values: dict) -> None:
    """A changed row written with one prebuilt UPDATE of the columns that changed, and taken as written:
    the ORM's flush of the same UPDATE costs ~3× the statement (its unit-of-work machinery per row).
    A row of a table keyed by more than an `id` (or not yet written) is left to the ORM."""
    state = inspect(obj)
    table = _BY_ID.get(state.mapper)
    if table is None or state.key is None:
        return
    if values:
        row_id = state.identity[0]
        stmt = update_by_id(table, tuple(sorted(values)))       # (attribute keys are the column names)
        if session.connection().execute(stmt, by_id_params(row_id, values)).rowcount != 1:
            raise StaleDataError(f"{state.mapper.class_.__name__} {row_id}: not one row updated")
    # what the ORM's flush does for each row it wrote: the row is clean, and a rollback of this (nested)
    # transaction expires it (private to SQLAlchemy, 2.0 and 2.1 alike: tests/integration/test_direct_updates.py)
    state._commit_all(state.dict, session.identity_map)
    session._register_altered([state])


_BY_ID = {mp: cast(Table, mp.local_table) for mp in Base.registry.mappers if [c.name for c in mp.primary_key] == ["id"]}


def _before(obj: Base) -> dict:
    """The row as loaded (its committed values: the ones the ORM's history calls deleted)."""
    state = inspect(obj)
    committed, d = state.committed_state, state.dict
    out = {}
    for attr in state.mapper.column_attrs:
        value = committed.get(attr.key, NO_VALUE)
        if value is NO_VALUE:
            value = d[attr.key] if attr.key in d else getattr(obj, attr.key)
        out[attr.key] = _to_json(value)
    return out


def _to_json(v):
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _from_json(model, key, v):
    if v is None:
        return None
    py = model.__table__.c[key].type.python_type if key in model.__table__.c else None
    if py is datetime:
        return datetime.fromisoformat(v)
    if py is date:
        return date.fromisoformat(v)
    return v

