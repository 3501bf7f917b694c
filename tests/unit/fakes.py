"""In-memory fakes of the unit of work and its repositories: handler tests without a database (issue 12).

Each fake repository has only the methods handlers/ (and the scheduler's `due_before`) call, with the
order the SQL it stands for gives. Rows are the ORM model classes, built without a session; `add`
fills in the column defaults and an id, as a flush would. A unit of work that ends without `commit`
puts every row back as it was when it began, as a rollback does.
"""
from __future__ import annotations

import copy
import itertools
from datetime import date, datetime, timedelta

from rules.enums import MANAGES, Category, CustomerStatus
from rules.queue import DayFacts
from storage import models as m
from storage.repos.customers import DUE_COLUMNS, DueCustomer, Rescheduled
from storage.repos.projects import SAVED, ProjectRow
from storage.uow import Duplicate, Reminders


def _fill(row, ids) -> None:
    """What a flush does to a new row: column defaults, then an id."""
    for col in row.__table__.columns:
        if getattr(row, col.key) is None and col.default is not None:
            arg = col.default.arg
            setattr(row, col.key, arg(None) if col.default.is_callable else arg)
    if "id" in row.__table__.columns and row.id is None:
        row.id = next(ids)


def _not_null(row) -> None:
    """What the database's NOT NULL refuses at commit, the fakes refuse too."""
    missing = [c.key for c in row.__table__.columns
               if getattr(row, c.key) is None and not c.nullable and c.server_default is None]
    if missing:
        raise ValueError(f"{row.__tablename__}: no value for {', '.join(missing)}")


def _image(row) -> dict:
    return {c.key: copy.deepcopy(getattr(row, c.key)) for c in row.__table__.columns}


class _Rows:
    def __init__(self, ids):
        self.rows: list = []
        self._ids = ids

    def add(self, row):
        _fill(row, self._ids)
        self.rows.append(row)
        return row

    def get(self, row_id: int):
        return next((r for r in self.rows if r.id == row_id), None)

    def where(self, **eq) -> list:
        return [r for r in self.rows if all(getattr(r, k) == v for k, v in eq.items())]


class FakeMembers(_Rows):
    def of_project(self, project_id: int) -> list[m.Member]:
        return self.where(project_id=project_id)

    def manager_names(self, project_id: int, by_position: bool = False) -> list[str]:
        rows = [r for r in self.active_roster(project_id) if r.role in MANAGES]
        return [r.name for r in (rows if by_position else sorted(rows, key=lambda r: r.id))]

    def account_of(self, platform: str, project: str, name: str) -> str | None:
        return next((getattr(r, f"{platform}_id") for r in self.where(name=name)
                     if self.projects.get(r.project_id).name == project), None)

    def linked_to(self, platform: str, account: str) -> list[tuple[m.Member, str]]:
        return [(r, self.projects.get(r.project_id).name) for r in self.rows
                if r.active and getattr(r, f"{platform}_id") == account]

    def directory(self) -> list[tuple[str, str, str, str, int]]:
        out = []
        for r in sorted(self.rows, key=lambda r: r.id):
            p = self.projects.get(r.project_id)
            out += [(plat, getattr(r, f"{plat}_id"), p.name, r.name, p.roster_version)
                    for plat in ("feishu", "wechat", "wecom") if r.active and getattr(r, f"{plat}_id")]
        return out

    def name_of_account(self, platform: str, account: str) -> str | None:
        return next((r.name for r in self.rows if getattr(r, f"{platform}_id") == account), None)

    def active_roster(self, project_id: int) -> list[m.Member]:
        return sorted(self.where(project_id=project_id, active=True), key=lambda r: (r.position, r.id))

    def named(self, project_id: int, name: str, active_only: bool = False) -> m.Member | None:
        rows = self.where(project_id=project_id, name=name)
        return next((r for r in rows if r.active or not active_only), None)

    def linked_or_named(self, project_id: int, platform: str, account: str, name: str) -> list[m.Member]:
        return [r for r in self.where(project_id=project_id)
                if getattr(r, f"{platform}_id") == account or r.name == name]


class FakeCustomers(_Rows):
    def __init__(self, ids, phones: _Rows):
        super().__init__(ids)
        self.phones = phones            # customer_phones: a customer's further phones

    def by_phone(self, project_id: int, phone: str) -> m.Customer | None:
        row = next(iter(self.where(project_id=project_id, phone=phone)), None)
        extra = next(iter(self.phones.where(project_id=project_id, phone=phone)), None)
        return row or (self.get(extra.customer_id) if extra else None)

    def phones_of(self, customer_id: int) -> list[str]:
        return [p.phone for p in self.phone_rows(customer_id)]

    def phone_rows(self, customer_id: int) -> list[m.CustomerPhone]:
        return self.phones.where(customer_id=customer_id)

    def add_phone(self, project_id: int, customer_id: int, phone: str) -> None:
        self.phones.add(m.CustomerPhone(project_id=project_id, customer_id=customer_id, phone=phone))

    def delete(self, row) -> None:
        table = self.phones if isinstance(row, m.CustomerPhone) else self
        table.rows = [r for r in table.rows if r is not row]

    def named(self, project_id: int, name: str) -> list[m.Customer]:
        return self.where(project_id=project_id, name=name)

    def by_phone_parts(self, project_id: int, prefix: str, suffix: str) -> list[m.Customer]:
        def fits(phone: str) -> bool:
            return phone.startswith(prefix) and phone[len(prefix):].endswith(suffix)
        extra = {p.customer_id for p in self.phones.where(project_id=project_id) if fits(p.phone)}
        return [r for r in self.where(project_id=project_id) if fits(r.phone) or r.id in extra]

    def by_ids(self, ids) -> dict[int, m.Customer]:
        return {r.id: r for r in self.rows if r.id in set(ids)}

    def take_due(self, project_id: int, now: datetime, limit: int = 500) -> list[DueCustomer]:
        due = [r for r in self.where(project_id=project_id) if r.due_at is not None and r.due_at <= now]
        taken = sorted(due, key=lambda r: (r.due_at, r.id))[:limit]
        for r in taken:
            r.due_at = None
        return sorted((DueCustomer(*(getattr(r, c.key) for c in DUE_COLUMNS)) for r in taken), key=lambda r: r.id)

    def reschedule(self, moved: list[Rescheduled]) -> None:
        for r in moved:
            row = self.get(r.id)
            row.due_at, row.due_stage, row.lapse_due_at = r.due_at, r.due_stage, r.lapse_due_at

    def active_of(self, project_id: int, owner: str) -> list[m.Customer]:
        return self.where(project_id=project_id, owner=owner, status=CustomerStatus.ACTIVE)

    def owned_by(self, project_id: int, owner: str) -> list[m.Customer]:
        return sorted(self.where(project_id=project_id, owner=owner), key=lambda r: r.valid_until)

    def lapsing_at(self, project_id: int, deadline: datetime) -> list[m.Customer]:
        return self.where(project_id=project_id, status=CustomerStatus.ACTIVE, valid_until=deadline)


class FakeReceptions(_Rows):
    def of_customer(self, customer_id: int) -> list[m.Reception]:
        return self.where(customer_id=customer_id)

    def open_of(self, project_id: int, member: str) -> list[m.Reception]:
        return self.where(project_id=project_id, member=member, ended_at=None)

    def open_of_customer(self, project_id: int, customer_id: int) -> m.Reception | None:
        return next(iter(self.where(project_id=project_id, customer_id=customer_id, ended_at=None)), None)

    def left_open_before(self, project_id: int, day: date) -> list[m.Reception]:
        return [r for r in self.where(project_id=project_id, ended_at=None) if r.day < day]

    def count_of_customer_on(self, project_id: int, customer_id: int, day: date) -> int:
        return len(self.where(project_id=project_id, customer_id=customer_id, day=day))

    def facts_of_day(self, project_id: int, day: date) -> DayFacts:
        counted: dict[str, int] = {}
        open_: dict[str, list[int]] = {}
        for r in sorted(self.where(project_id=project_id, day=day), key=lambda r: r.id):
            if r.counted_for:
                counted[r.counted_for] = counted.get(r.counted_for, 0) + 1
            if r.ended_at is None:
                open_.setdefault(r.member, []).append(r.id)
        return DayFacts(counted, open_)

    def last_ended(self, project_id: int, member: str, day: date) -> m.Reception | None:
        ended = [r for r in self.where(project_id=project_id, member=member, day=day) if r.ended_at]
        return ended[-1] if ended else None

    def latest_open_non_buyer(self, project_id: int, day: date) -> m.Reception | None:
        rows = self.where(project_id=project_id, day=day, category=Category.NON_BUYER, ended_at=None)
        return rows[-1] if rows else None

    def nudges_due(self, project_id: int, now: datetime) -> list[m.Reception]:
        return [r for r in self.where(project_id=project_id, ended_at=None)
                if r.nudge_at is not None and r.nudge_at <= now]

    def of_customer_by_others(self, customer_id: int, day: date, owner: str) -> list[m.Reception]:
        return [r for r in self.where(customer_id=customer_id, day=day) if r.member != owner]

    def obligations(self, customer_id: int, day: date, member: str) -> list[m.Reception]:
        return self.where(customer_id=customer_id, day=day, member=member, category=Category.OBLIGATION)

    def latest_helper(self, customer_id: int, day: date, owner: str, roster: list[str]) -> m.Reception | None:
        rows = [r for r in self.where(customer_id=customer_id, day=day)
                if r.category in (Category.HELPER, Category.OBLIGATION) and r.member != owner
                and r.member in roster]
        return rows[-1] if rows else None

    def on_day(self, project_id: int, day: date) -> list[m.Reception]:
        return self.where(project_id=project_id, day=day)


class FakeDeals(_Rows):
    """Deals and appeals in one list, as the real repository adds both."""

    def _deals(self, **eq) -> list[m.Deal]:
        return [r for r in self.rows if isinstance(r, m.Deal) and all(getattr(r, k) == v for k, v in eq.items())]

    def of_customer_on(self, customer_id: int, day: date) -> m.Deal | None:
        return next(iter(self._deals(customer_id=customer_id, day=day)), None)

    def count_of_customer_on(self, customer_id: int, day: date) -> int:
        return len(self._deals(customer_id=customer_id, day=day))

    def of_customer(self, customer_id: int) -> list[m.Deal]:
        return self._deals(customer_id=customer_id)

    def latest_of(self, customer_id: int) -> m.Deal | None:
        rows = self._deals(customer_id=customer_id)
        return rows[-1] if rows else None

    def on_day(self, project_id: int, day: date) -> list[m.Deal]:
        return self._deals(project_id=project_id, day=day)

    def appeal_on(self, customer_id: int, by: str, since: datetime) -> m.Appeal | None:
        return next((r for r in self.rows if isinstance(r, m.Appeal) and r.customer_id == customer_id
                     and r.by == by and r.at >= since), None)

    def appeal_by(self, deal_id: int, by: str) -> m.Appeal | None:
        return next((r for r in self.rows if isinstance(r, m.Appeal) and (r.deal_id, r.by) == (deal_id, by)), None)


class FakeFacts(_Rows):
    """Dated facts (registrations, lapses): appended once per customer, kind and time."""

    def add(self, project_id: int, customer_id: int, fact, first: bool = False) -> None:
        seen = self.where(customer_id=customer_id, kind=fact.kind, at=fact.at)
        if first and self.where(customer_id=customer_id):
            raise AssertionError(f"customer {customer_id} is not new: it has facts already")
        if not seen:
            super().add(m.Fact(project_id=project_id, customer_id=customer_id, kind=fact.kind, member=fact.member,
                               at=fact.at))

    def of_customer(self, customer_id: int) -> list:
        return self.where(customer_id=customer_id)

    def drop(self, fact) -> None:
        self.rows.remove(fact)

    def registrations_between(self, project_id: int, lo, hi) -> list:
        return [(f, self.customers.get(f.customer_id)) for f in sorted(self.where(project_id=project_id, kind="registered"),
                key=lambda f: (f.at, f.id)) if lo <= f.at < hi]


class FakeAudit(_Rows):
    def record(self, project_id: int, at: datetime, entry) -> m.Audit:
        return self.add(m.Audit(project_id=project_id, day=at.date(), at=at, actor=entry.actor,
                                command=entry.command, reasons=entry.reasons, undo=entry.undo, kind=entry.kind))

    def write(self, project_id: int, at: datetime, entry) -> int:
        return self.record(project_id, at, entry).id

    def of_day(self, project_id: int, day: date, newest_first: bool = False) -> list[m.Audit]:
        rows = self.where(project_id=project_id, day=day)
        return rows[::-1] if newest_first else rows


class FakeLinks(_Rows):
    def claims_for(self, project_id: int, name: str, platform: str | None = None) -> list[m.LinkClaim]:
        return [r for r in self.where(project_id=project_id, name=name) if platform in (None, r.platform)]

    def drop(self, row: m.LinkClaim) -> None:
        self.rows.remove(row)


class FakeProjects(_Rows):
    def __init__(self, ids, customers: FakeCustomers, receptions: FakeReceptions):
        super().__init__(ids)
        self._customers, self._receptions = customers, receptions
        self.chats: dict[tuple[str, str], m.ChatBinding] = {}

    def add(self, row: m.Project) -> m.Project:
        row.roster_version = row.roster_version or 0        # (the columns' server defaults)
        row.due_version = row.due_version or 0
        return super().add(row)

    def named(self, name: str) -> m.Project | None:
        return next(iter(self.where(name=name)), None)

    def save_state(self, row: ProjectRow, state: dict, sooner: bool = False) -> None:
        row.state = state
        row.due_version += 1 if sooner else 0
        stored = self.get(row.id)
        for k in SAVED:
            setattr(stored, k, getattr(row, k))

    def locked(self, name: str, for_update: bool) -> ProjectRow | None:
        p = self.named(name)
        return None if p is None else ProjectRow(p.id, p.name, p.roster_version, p.state, p.next_open_at,
                                                 p.next_summary_at, p.due_version)

    def id_of(self, name: str) -> int | None:
        row = self.named(name)
        return row.id if row else None

    def binding(self, platform: str, chat_id: str):
        return self.chats.get((platform, chat_id))

    def bind(self, platform: str, chat_id: str, project_id: int) -> None:
        self.chats[(platform, chat_id)] = m.ChatBinding(platform=platform, chat_id=chat_id, project_id=project_id)

    def chat_bindings(self) -> list[tuple[str, str, str]]:
        return [(plat, chat, self.get(b.project_id).name) for (plat, chat), b in self.chats.items()]

    def name_of_chat(self, platform: str, chat_id: str) -> str | None:
        b = self.chats.get((platform, chat_id))
        return self.get(b.project_id).name if b else None

    def schedules(self) -> list[tuple]:
        return [(p.name, p.due_version, p.next_open_at, p.next_summary_at, *self.earliest_reminders(p.id))
                for p in self.rows]

    def schedule_of(self, name: str):
        row = self.named(name)
        return (row.id, row.next_open_at, row.next_summary_at, row.due_version) if row else None

    def earliest_reminders(self, project_id: int) -> tuple[datetime | None, datetime | None]:
        cust = [r.due_at for r in self._customers.where(project_id=project_id) if r.due_at is not None]
        nudge = [r.nudge_at for r in self._receptions.where(project_id=project_id) if r.nudge_at is not None]
        return min(cust, default=None), min(nudge, default=None)


class FakeEvents:
    """Platform deliveries handled: event id → when."""

    def __init__(self):
        self.seen: dict[str, datetime] = {}

    def forget_before(self, cutoff: datetime) -> None:
        self.seen = {k: t for k, t in self.seen.items() if t >= cutoff}

    def claim(self, event_id: str, now: datetime) -> bool:
        if event_id in self.seen:
            return False
        self.seen[event_id] = now
        return True


class FakeOutbox:
    """The outbox rows by key: a taken key is refused, as the unique index does."""

    def __init__(self):
        self.rows: dict[str, m.Outbox] = {}
        self._ids = itertools.count(1)
        self.projects: FakeProjects | None = None

    def add(self, values: dict) -> bool:
        if values["key"] in self.rows:
            return False
        self.rows[values["key"]] = m.Outbox(id=next(self._ids), **values)
        return True

    def _open(self) -> list[m.Outbox]:
        return [r for r in self.rows.values() if r.sent_at is None and r.failed_at is None and r.dropped_at is None]

    def due_again(self, now: datetime, lease: timedelta, limit: int) -> list[tuple[m.Outbox, str | None]]:
        rows = [r for r in self._open() if (r.retry_at <= now if r.retry_at is not None
                                            else r.claimed_at < now - lease)]
        return [(r, self.projects.get(r.project_id).name if r.project_id else None)
                for r in sorted(rows, key=lambda r: r.id)[:limit]]

    def take(self, row: m.Outbox, now: datetime, worker: str, retry_at: datetime) -> bool:
        row.claimed_at, row.claimed_by, row.attempts, row.retry_at = now, worker, row.attempts + 1, retry_at
        return True

    def give_up(self, row: m.Outbox, now: datetime) -> bool:
        row.failed_at = now
        return True

    def drop(self, row: m.Outbox, now: datetime) -> bool:
        row.dropped_at = now
        return True

    def drop_stale(self, project_id: int, kinds, today: date, now: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self._open():
            if r.project_id == project_id and r.kind in {str(k) for k in kinds} and r.day < today:
                r.dropped_at = now
                counts[r.kind] = counts.get(r.kind, 0) + 1
        return counts

    def mark_sent(self, keys: list[str] | None, now: datetime) -> None:
        for k, r in self.rows.items():
            if r.sent_at is None and (keys is None or k in keys):
                r.sent_at = now

    def unsent(self, keys: list[str]) -> list[m.Outbox]:
        return [self.rows[k] for k in keys if k in self.rows and self.rows[k].sent_at is None]

    def sent_keys(self, keys: list[str]) -> set[str]:
        return {k for k in keys if k in self.rows and self.rows[k].sent_at is not None}

    def add_many(self, rows: list[dict]) -> set[str]:
        return {values["key"] for values in rows if self.add(values)}


class FakeRelatives(_Rows):
    def of_customer(self, customer_id: int) -> list[m.Relative]:
        return self.where(customer_id=customer_id)

    def by_phone(self, project_id: int, phone: str) -> m.Relative | None:
        return next(iter(self.where(project_id=project_id, phone=phone)), None)


class FakeBenefits(_Rows):
    def standing(self, project_id: int, day: date, member: str) -> list[m.BenefitRow]:
        return [b for b in reversed(self.rows) if (b.project_id, b.day, b.member) == (project_id, day, member)
                and b.withdrawn_by is None]

    def on_day(self, project_id: int, day: date) -> list[m.BenefitRow]:
        return self.where(project_id=project_id, day=day)

    def unused_makeup(self, project_id: int, member: str) -> m.BenefitRow | None:
        return next((b for b in reversed(self.rows) if (b.project_id, b.member) == (project_id, member)
                     and b.makeup and b.used_day is None and b.withdrawn_by is None), None)


class FakeAways(_Rows):
    def open_of(self, project_id: int, member: str) -> m.Away | None:
        return next((a for a in reversed(self.rows) if (a.project_id, a.member) == (project_id, member)
                     and a.ended_at is None), None)

    def on_day(self, project_id: int, day: date) -> list[m.Away]:
        return self.where(project_id=project_id, day=day)


class FakeSession:
    """Handlers flush for new ids; the fakes give ids on add, so there is nothing to do."""

    def flush(self) -> None:
        pass


class FakeSavepoint:
    """A nested transaction: `rollback` puts the rows back as they were when it began."""

    def __init__(self, uow: FakeUnitOfWork):
        self.uow, self.saved = uow, uow.snapshot()

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        self.uow.put_back(self.saved)


class FakeUnitOfWork:
    """The repositories in memory; leaving without `commit` restores every row as it was on entry."""

    def __init__(self):
        ids = itertools.count(1)
        self.session = FakeSession()
        self.phones = _Rows(ids)
        self.members, self.customers = FakeMembers(ids), FakeCustomers(ids, self.phones)
        self.receptions = FakeReceptions(ids)
        self.deals, self.audit, self.links = FakeDeals(ids), FakeAudit(ids), FakeLinks(ids)
        self.facts = FakeFacts(ids)
        self.facts.customers = self.customers
        self.projects = FakeProjects(ids, self.customers, self.receptions)
        self.events, self.outbox = FakeEvents(), FakeOutbox()
        self.members.projects = self.outbox.projects = self.projects
        self.relatives, self.benefits, self.aways = FakeRelatives(ids), FakeBenefits(ids), FakeAways(ids)
        self.committed = 0
        self.roster_changed = False
        self._saved: list | None = None

    def tables(self) -> list[_Rows]:
        return [self.projects, self.members, self.customers, self.phones, self.receptions, self.deals, self.audit,
                self.links, self.relatives, self.benefits, self.aways, self.facts]

    def __enter__(self) -> FakeUnitOfWork:
        if self._saved is not None:
            raise RuntimeError("a unit of work opened inside another: the SQL one would deadlock on SQLite")
        self._saved = self.snapshot()
        self.roster_changed = False
        return self

    def __exit__(self, *_) -> None:
        if self._saved is not None:
            self.rollback()

    def snapshot(self) -> list:
        saved: list = [(t, [(r, _image(r)) for r in t.rows]) for t in self.tables()]
        saved.append((None, (dict(self.events.seen), {k: (r, _image(r)) for k, r in self.outbox.rows.items()})))
        return saved

    def put_back(self, saved: list) -> None:
        *tables, (_, (seen, outbox)) = saved
        for table, rows in tables:
            table.rows = [r for r, _ in rows]
            for row, image in rows:
                for key, value in image.items():
                    setattr(row, key, value)
        self.events.seen = dict(seen)
        self.outbox.rows = {k: r for k, (r, _) in outbox.items()}
        for r, image in outbox.values():
            for key, value in image.items():
                setattr(r, key, value)

    def commit(self) -> None:
        for table in self.tables():
            for row in table.rows:
                _not_null(row)
        self._bump_rosters()
        self._saved = None
        self.committed += 1

    def _bump_rosters(self) -> None:
        """As the unit of work does: a member added, changed or removed bumps its project's roster_version."""
        if self._saved is None:
            return
        before = {id(r): img for t, rows in self._saved if t is self.members for r, img in rows}
        changed = {r.project_id for r in self.members.rows if before.get(id(r)) != _image(r)}
        changed |= {img["project_id"] for t, rows in self._saved if t is self.members for r, img in rows
                    if r not in self.members.rows}
        for pid in changed:
            self.projects.get(pid).roster_version += 1
        self.roster_changed = self.roster_changed or bool(changed)

    def rollback(self) -> None:
        if self._saved is not None:
            self.put_back(self._saved)
        self._saved = None

    def savepoint(self) -> FakeSavepoint:
        return FakeSavepoint(self)

    def flush(self) -> None:
        pass

    def lock_project(self, name: str) -> m.Project | None:
        return self.projects.locked(name, for_update=True)

    def claim_event(self, event_id: str, now: datetime) -> None:
        if not self.events.claim(event_id, now):
            raise Duplicate(event_id)

    def changes(self) -> list[list]:
        """Before-images for /撤销 are the real unit of work's job (tests/integration)."""
        return []

    def forget_changes(self) -> None:
        pass

    @property
    def reminders(self) -> Reminders:
        """As the unit of work's: how reminder times moved since it began (the rows against the snapshot)."""
        r = Reminders()
        if self._saved is None:
            r.unknown = True
            return r
        for table, col in ((self.customers, "due_at"), (self.receptions, "nudge_at")):
            before = {id(row): img[col] for t, rows in self._saved if t is table for row, img in rows}
            now = {id(row): getattr(row, col) for row in table.rows}
            for key, t in now.items():
                if key not in before or before[key] != t:
                    r.moved(before.get(key), t)
            for key, t in before.items():
                if key not in now:
                    r.moved(t, None)
        return r


class FakeUnits:
    """The unit-of-work factory the bus takes (storage/uow.Units on a database): one in-memory store,
    a unit of work at a time, as one process handling one message at a time uses it."""

    engine = None

    def __init__(self):
        self.uow = FakeUnitOfWork()

    def __call__(self, readonly: bool = False) -> FakeUnitOfWork:
        return self.uow
