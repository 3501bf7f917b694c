"""One-time codes and claims waiting for /确认 (RULES §9: who may speak for whom)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage import models as m
from storage.repos.results import rowcount

LC, CL, LG = m.LinkCode, m.LinkClaim, m.LinkGuess


class Links:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.LinkCode | m.LinkClaim) -> None:
        self.s.add(row)

    def live_codes(self, name: str, project_ids: Iterable[int], now: datetime) -> list[m.LinkCode]:
        return list(self.s.scalars(select(LC).where(
            LC.name == name, LC.project_id.in_(project_ids), LC.used_at.is_(None), LC.expires_at > now)))

    def claim_of(self, project_id: int, name: str, platform: str) -> m.LinkClaim | None:
        return self.s.scalars(select(CL).where(CL.project_id == project_id, CL.name == name,
                                               CL.platform == platform)).first()

    def claims_for(self, project_id: int, name: str, platform: str | None = None) -> list[m.LinkClaim]:
        q = select(CL).where(CL.project_id == project_id, CL.name == name)
        return list(self.s.scalars(q if platform is None else q.where(CL.platform == platform)))

    def drop(self, row: m.LinkClaim) -> None:
        self.s.delete(row)

    def burn(self, code: m.LinkCode, now: datetime) -> bool:
        """Use up a code (False: another process used or burnt it first)."""
        return rowcount(self.s.execute(update(LC).where(LC.id == code.id, LC.used_at.is_(None))
                                       .values(used_at=now))) > 0

    def count_try(self, code: m.LinkCode, cap: int, now: datetime) -> None:
        """One more wrong try, counted in the database (concurrent tries are never lost); burnt at `cap`."""
        tries = self.s.execute(update(LC).where(LC.id == code.id, LC.used_at.is_(None))
                               .values(tries=LC.tries + 1).returning(LC.tries)).scalar()
        if tries is not None and tries >= cap:
            self.burn(code, now)

    def guessed(self, platform: str, account: str, now: datetime) -> None:
        self.s.add(m.LinkGuess(platform=platform, account=account, at=now))

    def guesses(self, platform: str, account: str, since: datetime) -> int:
        """Wrong codes this account sent since `since` (any name, any project)."""
        return self.s.scalar(select(func.count()).select_from(LG).where(
            LG.platform == platform, LG.account == account, LG.at >= since)) or 0
