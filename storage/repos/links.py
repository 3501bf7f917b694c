"""One-time codes and claims waiting for /确认 (RULES §9: who may speak for whom)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models as m

LC, CL = m.LinkCode, m.LinkClaim


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
