"""The read models' queries as repositories on the unit of work: the report figures (storage/reports.py)
and the board's and the report page's links and live state (storage/boards.py). Handlers and the web
pages read through `uow.report_figures` and `uow.boards`, never through a raw session."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from storage import boards, reports
from storage import models as m


class ReportFigures:
    """Per-salesperson figures of a period (RULES §11), each one statement."""

    def __init__(self, s: Session):
        self.s = s

    def receptions(self, pid: int, start: date, end: date) -> dict[str, list[int]]:
        return reports.receptions(self.s, pid, start, end)

    def daily_walk_ins(self, pid: int, start: date, end: date) -> dict[date, int]:
        return reports.daily_walk_ins(self.s, pid, start, end)

    def registrations(self, pid: int, lo: datetime, hi: datetime) -> dict[str, int]:
        return reports.registrations(self.s, pid, lo, hi)

    def lapsed(self, pid: int, lo: datetime, hi: datetime) -> dict[str, int]:
        return reports.lapsed(self.s, pid, lo, hi)

    def deals(self, pid: int, start: date, end: date) -> dict[str, tuple[float, float]]:
        return reports.deals(self.s, pid, start, end)

    def makeups(self, pid: int, start: date, end: date) -> dict[str, tuple[int, int]]:
        return reports.makeups(self.s, pid, start, end)

    def roster(self, pid: int) -> list[str]:
        return reports.roster(self.s, pid)


class Boards:
    """The board's and the report page's tokens, and what a live board shows besides the day's state."""

    def __init__(self, s: Session):
        self.s = s

    def token_of(self, project_id: int, now: datetime, reset: bool = False, kind: str = boards.BOARD) -> str:
        return boards.token_of(self.s, project_id, now, reset, kind)

    def current_token(self, project_id: int, kind: str = boards.BOARD) -> str | None:
        return boards.current_token(self.s, project_id, kind)

    def project_by_token(self, token: str, kind: str = boards.BOARD) -> m.Project | None:
        return boards.project_by_token(self.s, token, kind)

    def signature(self, project_id: int) -> str:
        return boards.signature(self.s, project_id)

    def open_receptions(self, project_id: int, day: date) -> list[tuple[str, datetime]]:
        return boards.open_receptions(self.s, project_id, day)

    def last_change(self, project_id: int) -> m.Audit | None:
        return boards.last_change(self.s, project_id)

    def away_since(self, project_id: int, names: set[str]) -> dict[str, datetime]:
        return boards.away_since(self.s, project_id, names)

    def project(self, project_id: int) -> m.Project | None:
        return self.s.get(m.Project, project_id)
