"""The live board's read model: what the office TV shows, with no phone and no customer name."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from rules import texts as T
from rules.queue import PRESENCE_WORDS, Day
from storage import boards
from storage import models as m

_PHONEISH = re.compile(r"\+?\d[\d*\- ]{5,}[\d*]")
_QUOTED = re.compile(r"「\s*(/?\S*)[^」]*」")


def scrub(text: str, names: list[str]) -> str:
    """A log reason fit for a screen: a quoted command (/撤销's) keeps only its verb, customer names
    → 客户, phone numbers (full or masked) → ***."""
    text = _QUOTED.sub(lambda mt: f"「{mt.group(1)}」", text)
    for n in sorted(names, key=len, reverse=True):
        text = text.replace(n, "客户")
    return _PHONEISH.sub("***", text)


def board_state(s: Session, project: m.Project, settings, now: datetime) -> dict:
    """Today's queue, next-up, phone duty, who is receiving since when, and the last change."""
    tz = settings.tz
    local = now.astimezone(tz)
    day = Day.from_dict(project.state)
    is_open = day.date == local.date()
    nxt = day.next_up() if is_open else None
    receiving = [{"name": who, "since": f"{started.astimezone(tz):%H:%M}"}
                 for who, started in boards.open_receptions(s, project.id, local.date())]
    since: dict[str, str] = {}
    for r in receiving:
        since.setdefault(r["name"], r["since"])
    queue = [{"name": e.name, "presence": e.presence, "word": PRESENCE_WORDS[e.presence], "counted": e.counted,
              "makeup": e.makeup is not None, "next": e.name == nxt, "since": since.get(e.name)}
             for e in (day.queue if is_open else [])]
    return {
        "project": project.name,
        "date": T.BOARD_DATE.format(at=local, day=T.WEEKDAYS[local.weekday()]),
        "open": is_open,
        "shift": f"{settings.shift_start:%H:%M}–{settings.shift_end:%H:%M}",
        "next": nxt,
        "assigned": day.assigned if is_open else None,
        "queue": queue,
        "receiving": receiving,
        "phone_duty_on": bool(settings.policy.phone_duty),
        "phone_duty": day.phone_duty() if is_open and settings.policy.phone_duty else None,
        "last": _last(s, project.id, tz, local, [e.name for e in day.queue]),
    }


def _last(s: Session, project_id: int, tz, local: datetime, staff: list[str]) -> dict | None:
    a = boards.last_change(s, project_id)
    if a is None:
        return None
    at = a.at.astimezone(tz)
    reason = ";".join(a.reasons or [])
    names = [n for n in boards.customer_names_in(s, project_id, reason) if n not in staff and n != a.actor]
    return {"at": f"{at:%H:%M}" if at.date() == local.date() else f"{at:%m-%d %H:%M}",
            "actor": a.actor, "reason": scrub(reason, names), "undone": a.undone_by is not None}
