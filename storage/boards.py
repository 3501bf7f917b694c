"""Board and report links (/看板, /报表): one secret token each per project, and what the live board reads.

All reads here are small and indexed: the board polls `signature` several times a second.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules import texts as T
from storage import models as m

BOARD, REPORT = "board", "report"
TOKENS: dict[str, Any] = {BOARD: m.BoardToken, REPORT: m.ReportToken}


def token_of(s: Session, project_id: int, now: datetime, reset: bool = False, kind: str = BOARD) -> str:
    """The project's board (or report) token; a new one when there is none or `reset` (the old link stops)."""
    model = TOKENS[kind]
    row = s.get(model, project_id)
    if row is not None and not reset:
        return row.token
    token = secrets.token_urlsafe(24)
    if row is None:
        s.add(model(project_id=project_id, token=token, created_at=now))
    else:
        row.token, row.created_at = token, now
    s.flush()
    return token


def current_token(s: Session, project_id: int, kind: str = BOARD) -> str | None:
    row = s.get(TOKENS[kind], project_id)
    return None if row is None else row.token


def project_by_token(s: Session, token: str, kind: str = BOARD) -> m.Project | None:
    if not token or len(token) > 64:
        return None
    model = TOKENS[kind]
    return s.scalar(select(m.Project).join(model, model.project_id == m.Project.id).where(model.token == token))


def signature(s: Session, project_id: int) -> str:
    """Changes whenever the board could: any logged change (any process) or the day's state."""
    last = s.scalar(select(func.max(m.Audit.id)).where(m.Audit.project_id == project_id))
    state = s.scalar(select(m.Project.state).where(m.Project.id == project_id))
    text = json.dumps(state, sort_keys=True, ensure_ascii=False)
    return f"{last or 0}:{hashlib.sha1(text.encode()).hexdigest()[:16]}"


def open_receptions(s: Session, project_id: int, day: date) -> list[tuple[str, datetime]]:
    """(member, started_at) of today's receptions not yet ended, oldest first (no customer data)."""
    return list(s.execute(select(m.Reception.member, m.Reception.started_at).where(
        m.Reception.project_id == project_id, m.Reception.day == day, m.Reception.ended_at.is_(None))
        .order_by(m.Reception.started_at)))


def last_change(s: Session, project_id: int) -> m.Audit | None:
    """The latest change-log row that says what changed (rows noted only as 「（无变化）」 are passed over)."""
    rows = s.scalars(select(m.Audit).where(m.Audit.project_id == project_id).order_by(m.Audit.id.desc()).limit(10))
    return next((a for a in rows if a.reasons and a.reasons != [T.NO_CHANGE]), None)


def away_since(s: Session, project_id: int, names: set[str]) -> dict[str, datetime]:
    """When each of `names` went 外出 or 暂离: their 外出/暂离 row still open (RULES §9a)."""
    rows = s.scalars(select(m.Away).where(m.Away.project_id == project_id, m.Away.ended_at.is_(None),
                                          m.Away.member.in_(names)).order_by(m.Away.id))
    return {a.member: a.started_at for a in rows}
