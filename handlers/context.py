"""What a handler works with: the locked project, today's queue, the register, the clock."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import overload

from handlers.charts import ChartDrawer
from handlers.export_rows import WorkbookWriter
from handlers.settings import ProjectSettings
from rules import customers as cr
from rules import fairness as fair
from rules import texts as T
from rules.enums import MANAGES, SELLS, Benefit, BenefitKind, CustomerStatus, Presence
from rules.errors import Refused
from rules.queue import Day, Entry
from rules.schedule import LAPSE_NOTICE, customer_due, lapse_notice_due
from storage import models as m
from storage.repos.projects import ProjectRow
from storage.uow import UnitOfWork


@dataclass
class Ctx:
    uow: UnitOfWork
    project: ProjectRow
    settings: ProjectSettings
    day: Day
    now: datetime                        # aware, in the project's time zone
    sender: str
    private: bool = False
    reasons: list[str] = field(default_factory=list)
    granted: list[m.BenefitRow] = field(default_factory=list)   # benefits of this command (RULES §9a)
    _members: list | None = None
    write_workbook: WorkbookWriter | None = None     # /导出 (bot/adapters/xlsx.py, given by the bootstrap)
    draw_chart: ChartDrawer | None = None            # /周报 /月报's PNG (bot/adapters/charts.py, likewise)

    def __post_init__(self) -> None:
        self.take_facts()

    def take_facts(self) -> None:
        """The day's counts and open receptions, from the receptions table (their one source): the
        saved day has none, so the queue can never show other counts than the 日报 (RULES §11)."""
        if self.day.date is not None:
            self.day.take_facts(self.uow.receptions.facts_of_day(self.project.id, self.day.date))

    def saved_day(self) -> dict:
        """The day as `projects.state` keeps it: without what the receptions table says."""
        return self.day.to_dict(facts=False)

    # ---- basics ----------------------------------------------------------
    @property
    def policy(self):
        return self.settings.policy

    @property
    def today(self) -> date:
        return self.now.date()

    @overload
    def local(self, t: datetime) -> datetime: ...
    @overload
    def local(self, t: None) -> None: ...
    @overload
    def local(self, t: datetime | None) -> datetime | None: ...

    def local(self, t: datetime | None) -> datetime | None:
        return None if t is None else t.astimezone(self.settings.tz)

    def at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.settings.tz)

    def in_shift(self) -> bool:
        t = self.now.time()
        return self.settings.shift_start <= t < self.settings.shift_end

    def note(self, *reasons: str) -> None:
        self.reasons.extend(reasons)

    def grant(self, member: str, kind: BenefitKind, reason: str, reception: m.Reception | None = None,
              makeup: bool = False) -> None:
        """A benefit, recorded as a row: the 日报 lists it, the managers hear of it, /驳回 withdraws it;
        `makeup`: it gave a make-up (the reports count make-ups earned and used from these rows)."""
        row = self.uow.benefits.add(m.BenefitRow(
            project_id=self.project.id, day=self.today, member=member, kind=kind, reason=reason[:200],
            reception_id=reception.id if reception is not None else None, at=self.now, withdrawn_why="",
            makeup=makeup))
        self.granted.append(row)

    def makeups_used(self) -> None:
        """The make-ups this command used (a counted reception of their holder) are marked on their rows."""
        for name in self.day.spent:
            row = self.uow.benefits.unused_makeup(self.project.id, name)
            if row is not None:
                row.used_day = self.today
        self.day.spent.clear()

    def take_back(self, member: str, kind: BenefitKind, reception: m.Reception | None, why: str) -> None:
        """The rules withdrew a benefit themselves (one benefit, not two): its row says so."""
        for b in self.uow.benefits.standing(self.project.id, self.today, member):
            if b.kind == kind and (reception is None or b.reception_id == reception.id):
                b.withdrawn_by, b.withdrawn_at, b.withdrawn_why = self.sender, self.now, why[:200]
                return

    # ---- people ------------------------------------------------------------
    def members(self) -> list:
        """(name, role, position) of the active roster and managers, read once per command."""
        if self._members is None:
            self._members = self.uow.members.active_roster(self.project.id)
        return self._members

    def roster(self) -> list[str]:
        return [x.name for x in self.members() if x.role in SELLS]

    def managers(self) -> list[str]:
        """The project's managers: config.yaml's always, and those /成员 经理 made (RULES §9)."""
        return fair.managers_of([x.name for x in self.members() if x.role in MANAGES],
                                self.settings.managers)

    def is_manager(self, name: str | None = None) -> bool:
        return (name or self.sender) in self.managers()

    def salesperson(self, name: str) -> str:
        if name not in self.roster() and name in self.managers():
            raise Refused(T.IS_MANAGER_NOT_SALES.format(name=name))
        if name not in self.roster():
            raise Refused(T.NOT_ON_ROSTER.format(name=name))
        return name

    def presence(self, name: str | None) -> Presence | None:
        e = self.day.entry(name) if name else None
        return e.presence if e else None

    # ---- the day -----------------------------------------------------------
    def day_open(self) -> bool:
        return self.day.date == self.today

    def require_open(self) -> None:
        if not self.day_open():
            raise Refused(T.NOT_OPEN.format(start=f"{self.settings.shift_start:%H:%M}"))

    def require_in_queue(self, name: str) -> Entry:
        self.require_open()
        e = self.day.entry(name)
        if e is None:
            raise Refused(T.NOT_IN_QUEUE.format(name=name))
        return e

    # ---- register ----------------------------------------------------------
    def customer_row(self, phone: str) -> m.Customer | None:
        return self.uow.customers.by_phone(self.project.id, phone)

    def customers_named(self, name: str) -> list[m.Customer]:
        return self.uow.customers.named(self.project.id, name)

    def customers_by_phone_parts(self, prefix: str, suffix: str) -> list[m.Customer]:
        """Customers whose phone starts with `prefix` and ends with `suffix` (digits only)."""
        return self.uow.customers.by_phone_parts(self.project.id, prefix, suffix)

    def domain(self, row: m.Customer) -> cr.Customer:
        return cr.Customer(
            name=row.name, phone=row.phone, owner=row.owner, status=CustomerStatus(row.status),
            registered_by=row.registered_by, registered_at=self.local(row.registered_at),
            last_activity_at=self.local(row.last_activity_at), valid_until=self.local(row.valid_until),
            note=row.note, other_names=list(row.other_names or []), id=row.id,
            prev_owner=row.prev_owner, prev_until=self.local(row.prev_until))

    def save(self, c: cr.Customer, row: m.Customer | None = None) -> m.Customer:
        """Write a domain customer back; re-arm its reminders when the deadline moved (RULES §7)."""
        before = None if row is None else self.domain(row)
        if row is None:
            row = self.uow.customers.add(m.Customer(project_id=self.project.id, phone=c.phone, due_stage=0))
        old_deadline = row.valid_until
        if c.prev_until is not None and c.prev_until != row.prev_until and row.due_stage < LAPSE_NOTICE:
            # registered again before the lapse notice went out: it still goes out (RULES §7)
            row.lapse_due_at = lapse_notice_due(c.prev_until, self.policy)
        for f in ("name", "owner", "status", "registered_by", "registered_at", "last_activity_at",
                  "valid_until", "note", "prev_owner", "prev_until"):
            setattr(row, f, getattr(c, f))
        row.other_names = list(c.other_names)
        if old_deadline != c.valid_until:
            nxt = customer_due(c.valid_until, 0, self.policy) if c.valid_until else None
            row.due_at, row.due_stage = (nxt[1], 0) if nxt else (None, 0)
        if row.lapse_due_at is not None:
            row.due_at = min(row.due_at or row.lapse_due_at, row.lapse_due_at)
        if row.id is None:
            self.uow.flush()            # the caller (and the facts below) need the new row's id
        for fact in cr.facts_of_change(before, c, self.now):
            self.uow.facts.add(self.project.id, row.id, fact, first=before is None)
        return row

    def same_name_rival(self, name: str, me: str) -> str | None:
        """RULES §5.5: the owner of an active customer with this name who is not `me`, if any."""
        for other in self.customers_named(name):
            owner = self.domain(other).owner_at(self.now)
            if owner and owner != me:
                return owner
        return None

    def phones_of(self, row: m.Customer) -> list[str]:
        """Every phone of the customer (RULES §5.5: one record per person), the first one first."""
        return [row.phone, *self.uow.customers.phones_of(row.id)]

    def change_phone(self, row: m.Customer, old: str, new: str) -> None:
        """更正 旧手机 新手机: the first phone, or the further one that was `old`."""
        if row.phone == old:
            row.phone = new
            return
        for p in self.uow.customers.phone_rows(row.id):
            if p.phone == old:
                p.phone = new

    def merge_into(self, row: m.Customer, into: m.Customer) -> None:
        """/核实 同一人: `row`'s phone becomes a further phone of `into`, its receptions and deals move
        over, its names are kept as other names, and its own record goes (one record per person)."""
        for r in self.uow.receptions.of_customer(row.id):
            r.customer_id = into.id
        for d in self.uow.deals.of_customer(row.id):
            d.customer_id = into.id
        kept = {(f.kind, f.at) for f in self.uow.facts.of_customer(into.id)}
        for f in self.uow.facts.of_customer(row.id):          # its dated registration stays on its day
            if (f.kind, f.at) in kept:
                self.uow.facts.drop(f)
            else:
                f.customer_id = into.id
        for rel in self.uow.relatives.of_customer(row.id):
            rel.customer_id = into.id
        for p in self.uow.customers.phone_rows(row.id):
            p.customer_id = into.id
        names = [n for n in [row.name, *(row.other_names or [])] if n != into.name]
        into.other_names = list(dict.fromkeys([*(into.other_names or []), *names]))
        self.uow.customers.delete(row)
        self.uow.customers.add_phone(self.project.id, into.id, row.phone)

    def masked_customer(self, key: str) -> m.Customer | None:
        """A phone as the bot prints it (`139****0003`): the one customer of the project it matches;
        None when `key` is no masked phone; refused when none or several match (COMMANDS §Parsing)."""
        parts = cr.masked_phone(key)
        if parts is None:
            return None
        rows = self.customers_by_phone_parts(*parts)
        if not rows:
            raise Refused(T.NO_SUCH_PHONE.format(phone=key))
        if len(rows) > 1:
            who = "、".join(T.CUSTOMER_WHO.format(name=r.name, phone=cr.mask(r.phone)) for r in rows[:10])
            raise Refused(T.MASKED_SEVERAL.format(phone=key, n=len(rows), who=who))
        return rows[0]

    def find_customer(self, key: str) -> m.Customer:
        phone = cr.normalize_phone(key)
        if phone:
            row = self.customer_row(phone)
            if row is None:
                raise Refused(T.NO_SUCH_PHONE.format(phone=cr.mask(phone)))
            return row
        masked = self.masked_customer(key)
        if masked is not None:
            return masked
        rows = self.customers_named(key)
        if not rows:
            raise Refused(T.NO_SUCH_NAME.format(name=key))
        if len(rows) > 1:
            raise Refused(T.SEVERAL_NAMED.format(name=key, n=len(rows)))
        return rows[0]

    # ---- receptions --------------------------------------------------------
    def open_receptions(self, member: str) -> list[m.Reception]:
        return self.uow.receptions.open_of(self.project.id, member)

    def open_reception_of(self, customer_id: int) -> m.Reception | None:
        return self.uow.receptions.open_of_customer(self.project.id, customer_id)

    def received_today(self, customer_id: int) -> bool:
        return bool(self.uow.receptions.count_of_customer_on(self.project.id, customer_id, self.today))

    def start_reception(self, member: str, category: str, customer_id: int | None = None,
                        counted_for: str | None = None, for_owner: str | None = None,
                        turn: bool = False) -> m.Reception:
        r = m.Reception(project_id=self.project.id, day=self.today, member=member,
                        customer_id=customer_id, category=category, counted_for=counted_for,
                        for_owner=for_owner, kind="", turn=turn, benefit=Benefit.NONE, started_at=self.now,
                        nudge_at=self.now + timedelta(minutes=self.policy.max_reception_minutes))
        self.uow.receptions.add(r)
        if self.day_open():
            self.day.start_reception(member, r.id)
        return r

    def end_reception(self, r: m.Reception) -> None:
        r.ended_at, r.nudge_at = self.now, None
        self.day.end_reception(r.member, r.id)

    def counted_for_customer_today(self, member: str, customer_id: int) -> bool:
        """`member` already has a counted reception of this customer today: one customer counts once a day."""
        return any(r.counted_for == member and r.customer_id == customer_id
                   for r in self.uow.receptions.on_day(self.project.id, self.today))

    def deal_today(self, customer_id: int | None) -> bool:
        if customer_id is None:
            return False
        return bool(self.uow.deals.count_of_customer_on(customer_id, self.today))
