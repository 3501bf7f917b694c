"""Tables (SQLAlchemy 2.x typed models). Times are stored in UTC and read back aware."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

from rules.enums import AuditKind


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, naive UTC in the database, aware UTC out (same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    @property
    def python_type(self):
        return datetime

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class Project(Base):
    """One sales site. `state` is today's queue (rules.queue.Day); this row is the project's lock."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[dict] = mapped_column(default=dict)
    next_open_at: Mapped[datetime | None]
    next_summary_at: Mapped[datetime | None]
    roster_version: Mapped[int] = mapped_column(default=0, server_default="0")   # +1 with every member change
    due_version: Mapped[int] = mapped_column(default=0, server_default="0")  # +1 when a reminder comes sooner


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(10))       # sales | manager
    position: Mapped[int] = mapped_column(default=0)    # 接待排序表 order
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    feishu_id: Mapped[str | None] = mapped_column(String(80), index=True)
    wechat_id: Mapped[str | None] = mapped_column(String(80), index=True)
    wecom_id: Mapped[str | None] = mapped_column(String(80), index=True)     # 企业微信 userid


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("project_id", "phone"), Index("ix_customers_name", "project_id", "name"),
                      Index("ix_customers_due", "project_id", "due_at"),
                      # reports (covering: the figures are read from the index alone)
                      Index("ix_customers_registered", "project_id", "registered_at", "registered_by"),
                      Index("ix_customers_lapse", "project_id", "status", "valid_until", "owner"))
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    registered_by: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime]
    last_activity_at: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    other_names: Mapped[list] = mapped_column(default=list)
    # scheduled reminders: the next stage due and when (indexed: the sweep never scans)
    due_at: Mapped[datetime | None]
    due_stage: Mapped[int] = mapped_column(default=0)
    # the lapse before this registration (RULES §5.9, §7): who owned it, through when, and when that
    # owner and the managers are still to be told (None: told, or nothing to tell)
    prev_owner: Mapped[str | None] = mapped_column(String(40))
    prev_until: Mapped[datetime | None]
    lapse_due_at: Mapped[datetime | None]


class CustomerPhone(Base):
    """A customer's further phones (RULES §5.5: one record per person; `customers.phone` is the first)."""

    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("project_id", "phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))


class Reception(Base):
    __tablename__ = "receptions"
    __table_args__ = (Index("ix_receptions_day", "project_id", "day"),
                      Index("ix_receptions_nudge", "project_id", "nudge_at"),
                      Index("ix_receptions_customer", "customer_id"),
                      # reports (covering: per-salesperson counts and per-day visitors without reading the rows)
                      Index("ix_receptions_report", "project_id", "day", "category", "member", "counted_for",
                            "customer_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    member: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    category: Mapped[str] = mapped_column(String(20))
    counted_for: Mapped[str | None] = mapped_column(String(40))   # whose turn this reception used
    for_owner: Mapped[str | None] = mapped_column(String(40))     # helper / obligation: the owner
    kind: Mapped[str] = mapped_column(String(20), default="")     # 非客 type
    turn: Mapped[bool] = mapped_column(Boolean, default=False)     # a counted rotation turn (next-up or /指派)
    benefit: Mapped[str] = mapped_column(String(10), default="")  # refund | makeup: what it earned (RULES §4)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    nudge_at: Mapped[datetime | None]


class ReceptionCount(Base):
    """Receptions per project, day and salesperson, kept by database triggers on `receptions` (migration
    0017: insert, delete and any change of day, member, counted_for or category, so /撤销 and merges keep
    it exact): `counted` = receptions counted for them, `uncounted` = their receptions counted for nobody
    or for another; 找人/问路 (errand) is not a reception. The year report reads ~18k of these, not 200k rows."""

    __tablename__ = "reception_counts"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    member: Mapped[str] = mapped_column(String(40), primary_key=True)
    counted: Mapped[int] = mapped_column(default=0)
    uncounted: Mapped[int] = mapped_column(default=0)


class VisitCount(Base):
    """Visitors per project and day, kept by database triggers on `receptions` (migration 0017): each
    customer received that day once, each reception without a customer once; errands not at all."""

    __tablename__ = "visit_counts"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitors: Mapped[int] = mapped_column(default=0)


class Relative(Base):
    """A buyer recorded as a registered customer's 直系亲属 (RULES §6.2): their own phone belongs to
    that customer's household, so a later 成交 with it credits the same owner."""

    __tablename__ = "relatives"
    __table_args__ = (Index("ix_relatives_phone", "project_id", "phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class BenefitRow(Base):
    """A benefit (RULES §9a): a refund, a make-up earned, a place kept by 外出, an uncounted new
    reception. Listed in the 日报, told to the managers, withdrawn by /驳回."""

    __tablename__ = "benefits"
    # reports: make-ups earned (by day) and used (by used_day), covering
    __table_args__ = (Index("ix_benefits_day", "project_id", "day", "member", "makeup", "withdrawn_by"),
                      Index("ix_benefits_used", "project_id", "used_day", "member", "makeup"))
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    member: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))                 # rules.enums.BenefitKind
    reason: Mapped[str] = mapped_column(String(200), default="")
    reception_id: Mapped[int | None] = mapped_column(ForeignKey("receptions.id"))
    at: Mapped[datetime]
    withdrawn_by: Mapped[str | None] = mapped_column(String(40))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_why: Mapped[str] = mapped_column(String(200), default="")
    makeup: Mapped[bool] = mapped_column(Boolean, default=False)   # it gave a make-up (补接)
    used_day: Mapped[date | None] = mapped_column(Date)            # the day that make-up was used


class Away(Base):
    """A 外出 or 暂离 with its reason, from the word to 回来 (the 日报 lists it with its duration)."""

    __tablename__ = "aways"
    __table_args__ = (Index("ix_aways_day", "project_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    member: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))                 # rules.enums.Presence
    reason: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (Index("ix_deals_day", "project_id", "day"),)      # reports
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    day: Mapped[date] = mapped_column(Date)
    units: Mapped[int]
    shares: Mapped[dict]
    buyer_name: Mapped[str] = mapped_column(String(40))
    relation: Mapped[str] = mapped_column(String(10), default="")
    reported_by: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Fact(Base):
    """A dated fact about a customer (rules.enums.FactKind), written when it happens and never changed:
    the reports of a closed period count these, not the customer's current record (RULES §11)."""

    __tablename__ = "dated_facts"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "at"),
                      Index("ix_dated_facts_report", "project_id", "kind", "at", "member"))
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    member: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]


class Appeal(Base):
    """申诉: of a deal's attribution (`deal_id`), or of a customer's ownership when there is no deal
    (`customer_id`, RULES §5.9)."""

    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    by: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Audit(Base):
    """Append-only change log. `undo` holds the before-images that /撤销 restores."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_day", "project_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(40))
    command: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list] = mapped_column(default=list)
    undo: Mapped[dict | None]
    kind: Mapped[str] = mapped_column(String(10), default=AuditKind.CMD)
    undone_by: Mapped[int | None]


class ProcessedEvent(Base):
    """Platform deliveries, stored before the platform is told they arrived (`payload`: the Incoming
    as JSON, `handled` False), then claimed by the command that handles them (`handled` True); kept
    for the redelivery retention: a redelivered event is ignored, a stored one is handled after a restart."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_pending", "handled", "at"),)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[str | None] = mapped_column(Text, default=None)
    handled: Mapped[bool] = mapped_column(default=True, server_default=true())


class Outbox(Base):
    """Every outgoing message (replies, scheduled messages, cards, files), written in the transaction that
    made it under a unique key; the adapter sends it and marks it sent, or it is tried again (bot/outbox.py)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))   # None: a chat bound to none
    to: Mapped[str | None] = mapped_column(Text)        # a member's name, or an unknown sender's platform id
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list] = mapped_column(default=list)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    platform: Mapped[str | None] = mapped_column(String(20))      # a reply goes back through it; None: every one
    chat_id: Mapped[str | None] = mapped_column(String(120))      # the chat a reply answers (None: the project's)
    card: Mapped[dict | None]
    file: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)             # sends started (claims)
    retry_at: Mapped[datetime | None] = mapped_column(index=True)   # unsent by then: claimed and sent again
    failed_at: Mapped[datetime | None]                           # given up after MAX_ATTEMPTS; managers told
    kind: Mapped[str | None] = mapped_column(String(16))        # rules.enums.MessageKind (None: from before 0008)
    day: Mapped[date | None] = mapped_column(Date)               # the project's local day it belongs to
    dropped_at: Mapped[datetime | None]                          # a day's announcement unsent once the day was over


class BoardToken(Base):
    """The secret in a project's board link (/看板); /看板 重置 replaces it."""

    __tablename__ = "board_tokens"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class ReportToken(Base):
    """The secret in a project's report link (/报表), apart from the board's: the lobby TV's link
    shows no sales figures (RULES §10); /报表 重置 replaces it."""

    __tablename__ = "report_tokens"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class ChatBinding(Base):
    __tablename__ = "chat_bindings"
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))


class LinkCode(Base):
    """A one-time code from `reception-bot link 姓名` (RULES §9): only its salted hash is kept;
    valid until `expires_at`, used once, burnt after a few wrong tries."""

    __tablename__ = "link_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    code_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    tries: Mapped[int] = mapped_column(default=0)


class LinkGuess(Base):
    """A wrong one-time code, by account: guessing is limited per account, whichever code it aims at."""

    __tablename__ = "link_guesses"
    __table_args__ = (Index("ix_link_guesses_account", "platform", "account", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class LinkClaim(Base):
    """「我是 姓名」 from an account that waits for a manager's /确认 (one claim per name and platform)."""

    __tablename__ = "link_claims"
    __table_args__ = (UniqueConstraint("project_id", "name", "platform"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(80))
    display: Mapped[str] = mapped_column(String(80), default="")    # the platform's display name, if any
    at: Mapped[datetime]
