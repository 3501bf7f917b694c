"""今日轮排 (RULES §2, §3): the day's queue, presences, counts and make-ups.

Every operation mutates a `Day` and returns plain-word reasons for the log (§9).
Nothing here reads a clock or a database: the date comes in as an argument.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rules import texts as T
from rules.enums import Presence

AVAILABLE, BUSY, AWAY_BUSINESS, AWAY_PERSONAL, ABSENT = (
    Presence.AVAILABLE, Presence.BUSY, Presence.AWAY_BUSINESS, Presence.AWAY_PERSONAL, Presence.ABSENT)
PRESENCES = (AVAILABLE, BUSY, AWAY_BUSINESS, AWAY_PERSONAL, ABSENT)
SKIPPED_WHEN_PASSED = T.SKIPPED_AS
KEEPS_PLACE = (BUSY, AWAY_BUSINESS)      # their turn passing earns them the front (§3 table)
PRESENCE_WORDS = T.PRESENCE


@dataclass
class Entry:
    name: str
    presence: Presence = ABSENT
    makeup: int | None = None        # when the make-up was earned (first earned, first served)
    held: int | None = None          # when the turn passed while busy/away on business (place kept)
    used: int | None = None          # the make-up (or kept place) the latest counted reception used
    makeup_src: int | None = None    # the reception that earned the make-up (0: the manager)
    approved: int = 0                # /批准: new customers allowed while busy
    # derived from the receptions table when the day is loaded (DayFacts), never saved with the day
    counted: int = 0
    receptions: list[int] = field(default_factory=list)   # open reception ids


@dataclass(frozen=True)
class DayFacts:
    """What the receptions table says of a day, its one source (RULES §11 "every view agrees"):
    each member's counted receptions, and the ids of their receptions still open, oldest first."""
    counted: dict[str, int] = field(default_factory=dict)
    open: dict[str, list[int]] = field(default_factory=dict)


def _place(e: Entry) -> int | None:
    """When e earned a place at the front (a make-up or a kept place), or None."""
    kept = [k for k in (e.makeup, e.held) if k is not None]
    return min(kept) if kept else None


@dataclass
class Day:
    # dt.date, never `date`: in this class body that name is the field below
    date: dt.date | None = None
    queue: list[Entry] = field(default_factory=list)
    off: list[str] = field(default_factory=list)           # 请假 / 签退 today
    early_date: dt.date | None = None                       # sign-ins before that day's opening
    early: list[str] = field(default_factory=list)
    early_off: list[str] = field(default_factory=list)      # 请假 before that day's opening
    assigned: str | None = None                             # /指派
    opened_by: str = ""                                     # who opened today (the system or a manager)
    makeup_seq: int = 0
    pending_non_buyer: dict[str, dict] = field(default_factory=dict)
    helpers: dict[str, str] = field(default_factory=dict)   # 让 甲 代接: owner → the helper they named
    # "Yesterday's cycle is everyone's" (RULES §2): today's rotation order with the places of those who
    # left (签退/请假) or were skipped kept where they were; tomorrow opens from it (carry_over)
    cycle: list[str] = field(default_factory=list)
    carried: dict[str, int] = field(default_factory=dict)   # unused make-ups of those who left today
    # 点名 甲 waiting for 甲's 接待 (RULES §4): 甲 → reporter, reporter's reception, customer, deadline
    named_waiting: dict[str, dict] = field(default_factory=dict)
    spent: list[str] = field(default_factory=list, compare=False, repr=False)   # make-ups used now (not saved)

    # ---- reading -------------------------------------------------------
    def entry(self, name: str) -> Entry | None:
        return next((e for e in self.queue if e.name == name), None)

    def names(self) -> list[str]:
        return [e.name for e in self.queue]

    def next_up(self, approved: str | None = None) -> str | None:
        """当值: /指派 的人(若在岗),否则队列中第一位在岗的人。

        `approved`: a busy member the manager let take one more new customer counts as available.
        """
        def ready(e: Entry) -> bool:
            return e.presence == AVAILABLE or (e.name == approved and e.presence == BUSY and e.approved > 0)

        if self.assigned:
            e = self.entry(self.assigned)
            if e and ready(e):
                return e.name
        return next((e.name for e in self.queue if ready(e)), None)

    def phone_duty(self) -> str | None:
        """接电话: the available member after the next-up (auto_dealer 二.10)."""
        avail = [e.name for e in self.queue if e.presence == AVAILABLE]
        nxt = self.next_up()
        rest = [n for n in avail if n != nxt]
        return rest[0] if rest else None

    # ---- opening the day (§2) -----------------------------------------
    def open(self, today: dt.date, roster: list[str], carry_over: bool) -> list[str]:
        """开班: build today's queue from yesterday's order (carry_over) or the roster."""
        order = [n for n in self._cycle() if n in roster] if carry_over else []
        order += [n for n in roster if n not in order]
        early = set(self.early) if self.early_date == today else set()
        off = list(self.early_off) if self.early_date == today else []
        kept = self._unused_makeups(order) if carry_over else {}
        self.queue = [Entry(n, AVAILABLE if n in early else ABSENT) for n in order if n not in off]
        self.date, self.off, self.assigned, self.cycle, self.carried = today, list(off), None, list(order), {}
        self.makeup_seq = 0
        for n in sorted(kept, key=kept.__getitem__, reverse=True):     # the first earned ends up first
            if self.entry(n) is not None:
                self._front(n)
        for n in sorted(kept, key=kept.__getitem__):
            if (e := self.entry(n)) is not None:
                self.makeup_seq += 1
                e.makeup, e.makeup_src = self.makeup_seq, 0
        self.early, self.early_off, self.early_date, self.pending_non_buyer = [], [], None, {}
        self.helpers, self.named_waiting = {}, {}
        return [T.Q_OPENED.format(order=" ".join(order) or T.EMPTY)
                + (T.Q_OPENED_EARLY.format(names=" ".join(sorted(early & set(order)))) if early else "")]

    def open_with(self, today: dt.date, names: list[str]) -> list[str]:
        """/开班 甲 乙 丙: today's queue is exactly these members, all available; counts kept."""
        old = {e.name: e for e in self.queue} if self.date == today else {}
        self.queue = []
        for n in names:
            e = old.get(n) or Entry(n)
            if e.presence != BUSY:
                e.presence = AVAILABLE
            self.queue.append(e)
        self.off = [n for n in self.off if n not in names] if self.date == today else []
        self.cycle = list(names)          # the manager's order is the cycle: those not named rejoin at the end
        if self.date != today:
            self.early, self.early_off, self.early_date, self.pending_non_buyer = [], [], None, {}
            self.helpers, self.carried = {}, {}
        self.date, self.assigned = today, None
        return [T.Q_OPENED_WITH.format(names=" ".join(names))]

    def opened(self, by: str) -> None:
        """Who opened today: the system (the scheduler's name) or a manager."""
        self.opened_by = by

    def forget_receptions(self) -> None:
        """A new day: receptions left open since an earlier day are closed, approvals lapse."""
        for e in self.queue:
            e.receptions, e.approved = [], 0

    def take_facts(self, facts: DayFacts) -> None:
        """The counts and open receptions of the day's members, as the receptions table has them:
        the day is given them when loaded instead of keeping a copy that could disagree; a member
        back in today's queue is given them again (their counts of today are kept, RULES §2)."""
        for e in self.queue:
            e.counted = facts.counted.get(e.name, 0)
            e.receptions = list(facts.open.get(e.name, ()))

    # ---- before the opening (§2) ----------------------------------------
    def expect_opening(self, today: dt.date) -> None:
        """Sign-ins and leave before `today`'s opening are remembered; an earlier day's are dropped."""
        if self.early_date != today:
            self.early_date, self.early, self.early_off = today, [], []

    def sign_in_early(self, name: str) -> list[str]:
        self.early.append(name)
        self.early_off = [n for n in self.early_off if n != name]
        return [T.SIGNED_IN_EARLY_NOTE.format(me=name)]

    def leave_early(self, name: str, word: str) -> list[str]:
        self.early = [n for n in self.early if n != name]
        if name not in self.early_off:
            self.early_off.append(name)
        return [T.LEFT_EARLY_NOTE.format(me=name, word=word)]

    # ---- presence ------------------------------------------------------
    def sign_in(self, name: str) -> list[str]:
        if name in self.off:
            self.off.remove(name)
        e = self.entry(name)
        if e is None:
            self.queue.append(Entry(name, AVAILABLE))
            self._cycle_to_tail(name)
            notes = [T.Q_SIGN_IN_TAIL.format(name=name)]
            if name in self.carried:                # the make-up earned before 签退 comes back at its place
                notes += self.give_makeup(name, T.MAKEUP_KEPT, seq=self.carried.pop(name), src=0)
            return notes
        if e.presence != BUSY:
            e.presence = AVAILABLE
        return [T.Q_SIGN_IN_KEEP.format(name=name)]

    def leave(self, name: str, word: str) -> list[str]:
        """签退 / 请假: out of today's queue; the place in the cycle and an unused make-up are kept (RULES §2)."""
        e = self.entry(name)
        if e is not None and e.makeup is not None:
            self.carried[name] = e.makeup
        self._cycle()
        self.queue = [e for e in self.queue if e.name != name]
        if name not in self.off:
            self.off.append(name)
        if self.assigned == name:
            self.assigned = None
        return [T.Q_LEFT.format(name=name, word=word)]

    def drop(self, name: str) -> None:
        """Off the roster (/成员 移除): out of the queue; unlike `leave`, `off` and /指派 are untouched."""
        self.queue = [e for e in self.queue if e.name != name]
        self.cycle = [n for n in self.cycle if n != name]
        self.carried.pop(name, None)

    def set_presence(self, name: str, presence: Presence, why: str) -> list[str]:
        self._get(name).presence = presence
        return [T.Q_PRESENCE.format(name=name, word=why)]

    # ---- receptions (§3 operations 1–5) ---------------------------------
    def take_walk_in(self, name: str, counted: bool = True) -> list[str]:
        """轮排接待: 当值者接待;排在前面的未签到/暂离者跳到队尾(无补接),接待者计名次后排到队尾。"""
        notes: list[str] = []
        if self.assigned == name:
            self.assigned = None
            notes.append(T.Q_ASSIGNED_TAKES.format(name=name))
            if counted:
                notes += self.count_out_of_rotation(name)
            return notes
        idx = self.names().index(name)
        self._cycle()
        skipped = [e for e in self.queue[:idx] if e.presence in SKIPPED_WHEN_PASSED]
        for e in self.queue[:idx]:
            if e.presence in KEEPS_PLACE and e.held is None and e.makeup is None:
                self.makeup_seq += 1
                e.held = self.makeup_seq      # their turn passed now: first earned, first served
        for e in skipped:
            e.makeup = e.held = e.makeup_src = None
            notes.append(T.Q_SKIPPED_PASSED.format(name=e.name, why=SKIPPED_WHEN_PASSED[e.presence]))
        self.queue = [e for e in self.queue if e not in skipped] + skipped
        if counted:
            notes += self.count_out_of_rotation(name)
        return notes

    def count_out_of_rotation(self, name: str) -> list[str]:
        """计名次: receiver to the tail, count +1, make-up used; nobody else moves."""
        e = self._get(name)
        self.queue.remove(e)
        self.queue.append(e)
        self._cycle_to_tail(name)
        e.counted += 1
        used = e.makeup is not None
        if used:
            self.spent.append(name)
        kept = [k for k in (e.makeup, e.held) if k is not None]
        e.used = min(kept) if kept else None
        e.makeup = e.held = e.makeup_src = None
        return [T.Q_COUNTED.format(name=name, n=e.counted, used=T.Q_MAKEUP_USED if used else "")]

    def uncount(self, name: str) -> list[str]:
        """退回名次: count −1, position unchanged (义务接待 at once)."""
        e = self._get(name)
        e.counted = max(0, e.counted - 1)
        return [T.Q_REFUNDED.format(name=name)]

    def give_makeup(self, name: str, why: str = "", seq: int | None = None, src: int | None = None) -> list[str]:
        """补接: to the front, behind those who earned a make-up (or kept their place) earlier.

        `seq`: a re-issued make-up keeps the place it was first earned at; `src`: the reception that earned it.
        """
        e = self._get(name)
        self.queue.remove(e)
        if seq is None:
            self.makeup_seq += 1
            seq = self.makeup_seq
        e.makeup, e.makeup_src = seq, src
        i = 0
        while i < len(self.queue) and (place := _place(self.queue[i])) is not None and place < seq:
            i += 1
        self._cycle_before(name, self.queue[i].name if i < len(self.queue) else None)
        self.queue.insert(i, e)
        return [T.Q_MAKEUP.format(name=name, pos=i + 1, why=T.REASON.format(reason=why) if why else "")]

    def refund(self, name: str, why: str, src: int | None = None) -> list[str]:
        """退名次并补接 (优先补接): count −1 and a make-up; the make-up the turn used comes back at its place."""
        e = self._get(name)
        seq, e.used = e.used, None
        return self.uncount(name) + self.give_makeup(name, why, seq, src)

    def recount(self, name: str, why: str) -> list[str]:
        """The refunded count comes back (the make-up it gave was used already)."""
        self._get(name).counted += 1
        return [T.Q_RECOUNTED.format(name=name, why=why)]

    def withdraw_makeup(self, name: str, why: str, recount: bool = False) -> list[str]:
        """一次接待只得一种补偿: an unused make-up is withdrawn (the member goes back to the tail);
        `recount`: the refunded count is restored too (a 非客 that registered a customer after all)."""
        e = self._get(name)
        if recount:
            e.counted += 1
            e.used = e.makeup
        e.makeup = e.makeup_src = None
        self.queue.remove(e)
        self.queue.append(e)
        self._cycle_to_tail(name)
        return [(T.Q_REFUND_WITHDRAWN if recount else T.Q_MAKEUP_WITHDRAWN).format(name=name, why=why)]

    def skip(self, name: str, reason: str) -> list[str]:
        """/跳过: absent without notice — to the tail today, no make-up; the cycle keeps the place (RULES §2)."""
        e = self._get(name)
        self._cycle()
        self.queue.remove(e)
        self.queue.append(e)
        e.makeup = e.held = e.makeup_src = None
        if e.presence != BUSY:
            e.presence = ABSENT
        if self.assigned == name:
            self.assigned = None
        return [T.Q_SKIPPED.format(name=name, reason=T.REASON.format(reason=reason) if reason else "")]

    def to_tail(self, name: str, why: str) -> list[str]:
        """A place kept by 外出, withdrawn by the manager: to the tail today, as after 暂离 (RULES §9a)."""
        e = self._get(name)
        self._cycle()
        self.queue.remove(e)
        self.queue.append(e)
        e.makeup = e.held = e.makeup_src = None
        return [T.Q_TO_TAIL.format(name=name, why=why)]

    def assign(self, name: str) -> list[str]:
        """/指派: `name` takes the next walk-in."""
        self.assigned = name
        return [T.ASSIGNED_NOTE.format(name=name)]

    def approve(self, name: str) -> list[str]:
        """/批准: a busy member may take one more new customer."""
        self._get(name).approved += 1
        return [T.APPROVED_NOTE.format(name=name)]

    def use_approval(self, name: str) -> list[str]:
        self._get(name).approved -= 1
        return [T.APPROVED_EXTRA_NOTE.format(name=name)]

    def over_time(self, name: str) -> None:
        """A reception past the limit: the busy presence ends (the reception stays open)."""
        e = self.entry(name)
        if e is not None and e.presence == BUSY:
            e.presence = AVAILABLE

    def hold_non_buyer(self, name: str, reception: int, kind: str) -> None:
        """A late 非客 waits for /批准."""
        self.pending_non_buyer[name] = {"reception": reception, "kind": kind}

    def take_non_buyer(self, name: str, reception: int | None = None) -> dict | None:
        """The 非客 waiting for `name` (only the one of `reception` when given), no longer waiting."""
        pending = self.pending_non_buyer.get(name)
        if pending is None or (reception is not None and pending.get("reception") != reception):
            return None
        return self.pending_non_buyer.pop(name)

    def name_helper(self, owner: str, helper: str) -> None:
        """让 甲 代接: the owner's old customers go to `helper` while the owner is away."""
        self.helpers[owner] = helper

    def forget_helper(self, owner: str) -> None:
        self.helpers.pop(owner, None)

    def set_order(self, names: list[str]) -> list[str]:
        by_name = {e.name: e for e in self.queue}
        order = iter(names)
        self.cycle = [next(order) if n in by_name else n for n in self._cycle()]   # those left keep their slot
        self.queue = [by_name[n] for n in names]
        return [T.Q_ORDER.format(names=" ".join(names))]

    def start_reception(self, name: str, rid: int) -> None:
        e = self.entry(name)
        if e is not None:
            e.receptions.append(rid)
            e.presence = BUSY

    def end_reception(self, name: str, rid: int) -> None:
        """送客: available again only when no reception is open; an unused /批准 lapses then (it was
        for one more customer *while busy*: kept, it would make the next busy spell next-up)."""
        e = self.entry(name)
        if e is not None and rid in e.receptions:
            e.receptions.remove(rid)
            if not e.receptions:
                e.approved = 0
                if e.presence == BUSY:
                    e.presence = AVAILABLE

    # ---- the cycle (RULES §2) ----------------------------------------------
    def _cycle(self) -> list[str]:
        """Today's cycle; a state saved before the cycle existed starts it from the queue."""
        missing = [n for n in self.names() if n not in self.cycle]
        if missing:
            self.cycle += missing
        return self.cycle

    def _cycle_to_tail(self, name: str) -> None:
        self.cycle = [n for n in self._cycle() if n != name] + [name]

    def _cycle_before(self, name: str, successor: str | None) -> None:
        """`name` went to the front of the queue just ahead of `successor` (None: at the end)."""
        rest = [n for n in self._cycle() if n != name]
        i = rest.index(successor) if successor in rest else len(rest)
        self.cycle = rest[:i] + [name] + rest[i:]

    def _front(self, name: str) -> None:
        e = self._get(name)
        self.queue.remove(e)
        self.queue.insert(0, e)
        self.cycle = [name] + [n for n in self.cycle if n != name]

    def _unused_makeups(self, order: list[str]) -> dict[str, int]:
        """Yesterday's unused make-ups (and those carried by members who left), by when they were earned."""
        kept = {e.name: e.makeup for e in self.queue if e.makeup is not None}
        kept.update(self.carried)
        return {n: seq for n, seq in kept.items() if n in order}

    def _get(self, name: str) -> Entry:
        e = self.entry(name)
        if e is None:
            raise KeyError(name)
        return e

    # ---- (de)serialisation for storage ----------------------------------
    def to_dict(self, facts: bool = True) -> dict:
        """A JSON-ready copy (written out by hand: dataclasses.asdict is slow on the hot path).

        `facts=False`: without the counts and open receptions, as the day is saved (they are the
        receptions table's, DayFacts); with them, to compare the day before and after a command."""
        if facts:
            queue = [{"name": e.name, "presence": e.presence, "counted": e.counted, "makeup": e.makeup,
                      "held": e.held, "used": e.used, "makeup_src": e.makeup_src,
                      "approved": e.approved, "receptions": list(e.receptions)} for e in self.queue]
        else:
            queue = [{"name": e.name, "presence": e.presence, "makeup": e.makeup, "held": e.held, "used": e.used,
                      "makeup_src": e.makeup_src, "approved": e.approved} for e in self.queue]
        return {
            "date": self.date.isoformat() if self.date else None,
            "queue": queue,
            "off": list(self.off),
            "early_date": self.early_date.isoformat() if self.early_date else None,
            "early": list(self.early),
            "early_off": list(self.early_off),
            "assigned": self.assigned,
            "opened_by": self.opened_by,
            "makeup_seq": self.makeup_seq,
            "pending_non_buyer": {k: dict(v) for k, v in self.pending_non_buyer.items()},
            "helpers": dict(self.helpers),
            "cycle": list(self.cycle),
            "named_waiting": {k: dict(v) for k, v in self.named_waiting.items()},
            "carried": dict(self.carried),
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> Day:
        if not d:
            return cls()
        # copies throughout: never share a list with the caller's (ORM-loaded) dict
        d = {k: list(v) if isinstance(v, list) else v for k, v in d.items()}
        # a day saved before DayFacts carries counts and open receptions: taken as they are here,
        # replaced by the table's when the day is loaded for a command (Ctx)
        d["queue"] = [Entry(**{**e, "presence": Presence(e.get("presence", ABSENT)),
                               "receptions": list(e.get("receptions", []))}) for e in d.get("queue", [])]
        d["pending_non_buyer"] = {k: dict(v) for k, v in d.get("pending_non_buyer", {}).items()}
        d["helpers"] = dict(d.get("helpers", {}))
        d["carried"] = dict(d.get("carried", {}))
        d["named_waiting"] = {k: dict(v) for k, v in d.get("named_waiting", {}).items()}
        for k in ("date", "early_date"):
            d[k] = dt.date.fromisoformat(d[k]) if d.get(k) else None
        return cls(**d)
