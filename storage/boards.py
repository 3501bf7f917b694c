"""Board links (/看板): one secret token per project, and what the live board reads.

All reads here are small and indexed: the board polls `signature` several times a second.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from storage import models as m


def token_of(s: Session, project_id: int, now: datetime, reset: bool = False) -> str:
    """The project's board token; a new one when there is none or `reset` (the old link stops working)."""
    row = s.get(m.BoardToken, project_id)
    if row is not None and not reset:
        return row.token
    token = secrets.token_urlsafe(24)
    if row is None:
        s.add(m.BoardToken(project_id=project_id, token=token, created_at=now))
    else:
        row.token, row.created_at = token, now
    s.flush()
    return token


def project_by_token(s: Session, token: str) -> m.Project | None:
    if not token or len(token) > 64:
        return None
    return s.scalar(select(m.Project).join(m.BoardToken, m.BoardToken.project_id == m.Project.id)
                    .where(m.BoardToken.token == token))


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
    """The latest change-log row that says what changed (rows noted only as "(无变化)" are passed over)."""
    rows = s.scalars(select(m.Audit).where(m.Audit.project_id == project_id).order_by(m.Audit.id.desc()).limit(10))
    return next((a for a in rows if a.reasons and a.reasons != ["(无变化)"]), None)


def customer_names_in(s: Session, project_id: int, text: str) -> list[str]:
    """Names of this project's customers that occur in `text` (to keep them off the board)."""
    if not text:
        return []
    return list(s.scalars(select(m.Customer.name).distinct().where(
        m.Customer.project_id == project_id, literal(text).contains(m.Customer.name))))
