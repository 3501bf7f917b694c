"""The live board's read model: what the office TV shows (RULES §10): members, presences, counts,
make-ups and times only — no customer name, no phone, and no text a member typed.

Today's totals come from handlers.reports.build, like every other view of the day (RULES §11).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from handlers import reports
from rules import texts as T
from rules.queue import AWAY_BUSINESS, AWAY_PERSONAL, Day
from storage import models as m
from storage.uow import UnitOfWork

AWAY = (AWAY_BUSINESS, AWAY_PERSONAL)


def board_state(uow: UnitOfWork, project: m.Project, settings, now: datetime) -> dict:
    """Today's phase, queue, next-up and second, make-ups in order, who is away since when, totals."""
    tz = settings.tz
    local = now.astimezone(tz)
    day = Day.from_dict(project.state)
    is_open = day.date == local.date()
    if is_open:                                  # the counts from the rows, as every other view (RULES §11)
        day.take_facts(uow.receptions.facts_of_day(project.id, local.date()))
    phase = _phase(is_open, local, settings)
    nxt = day.next_up() if phase == "open" else None
    receiving = [{"name": who, "since": f"{started.astimezone(tz):%H:%M}"}
                 for who, started in uow.boards.open_receptions(project.id, local.date())]
    queue = _queue(uow, project.id, day, local, nxt, receiving) if is_open else []
    second = next((e["name"] for e in queue if e["presence"] == "available" and e["name"] != nxt), None)
    return {
        "project": project.name,
        "date": T.BOARD_DATE.format(at=local, day=T.WEEKDAYS[local.weekday()]),
        "utc_offset_min": int((local.utcoffset() or timedelta()).total_seconds() // 60),
        "phase": phase,
        "open": is_open,
        "shift": f"{settings.shift_start:%H:%M}–{settings.shift_end:%H:%M}",
        "next": nxt,
        "second": second if nxt else None,
        "assigned": day.assigned if phase == "open" else None,
        "queue": queue,
        "early": sorted(day.early) if not is_open and day.early_date == local.date() else [],
        "receiving": receiving,
        "phone_duty_on": bool(settings.policy.phone_duty),
        "phone_duty": day.phone_duty() if phase == "open" and settings.policy.phone_duty else None,
        "totals": _totals(uow, project, tz, local),
        "last": _last(uow, project.id, tz, local),
    }


def _phase(is_open: bool, local: datetime, settings) -> str:
    """before: today not opened yet (sign-ins shown); open; after: the shift is over (已下班)."""
    if not is_open:
        return "before"
    return "after" if local.time() >= settings.shift_end else "open"


def _queue(uow: UnitOfWork, project_id: int, day: Day, local: datetime, nxt: str | None, receiving: list) -> list[dict]:
    since: dict[str, str] = {}
    for r in receiving:
        since.setdefault(r["name"], r["since"])
    order = sorted((e.makeup, e.name) for e in day.queue if e.makeup is not None)
    makeup_no = {name: i for i, (_, name) in enumerate(order, 1)}
    away = _away_since(uow, project_id, day, local)
    return [{"name": e.name, "presence": e.presence, "word": T.BOARD_PRESENCE[e.presence], "counted": e.counted,
             "makeup": makeup_no.get(e.name), "next": e.name == nxt, "since": since.get(e.name),
             "away_since": away.get(e.name)} for e in day.queue]


def _away_since(uow: UnitOfWork, project_id: int, day: Day, local: datetime) -> dict[str, str]:
    """When each member who is 外出 or 暂离 went (their 外出/暂离 row, not the change log)."""
    away = {e.name for e in day.queue if e.presence in AWAY}
    if not away:
        return {}
    return {n: f"{t.astimezone(local.tzinfo):%H:%M}" for n, t in uow.boards.away_since(project_id, away).items()}


def _totals(uow: UnitOfWork, project: m.Project, tz, local: datetime) -> dict:
    """来访 / 接待 / 登记 / 成交 of today, as /日报 and the reports count them."""
    today = local.date()
    rep = reports.build(uow.report_figures, project.id, project.name, tz, (today, today), local)
    t = rep.total()
    return {"visitors": rep.daily[0][1], "receptions": t.counted + t.uncounted,
            "registrations": t.registrations, "deals": reports.num(t.deals)}


def _last(uow: UnitOfWork, project_id: int, tz, local: datetime) -> dict | None:
    """When the board last changed and who changed it: no reason, no command (they carry typed text)."""
    a = uow.boards.last_change(project_id)
    if a is None:
        return None
    at = a.at.astimezone(tz)
    return {"at": f"{at:%H:%M}" if at.date() == local.date() else f"{at:%m-%d %H:%M}",
            "actor": a.actor, "undone": a.undone_by is not None}
