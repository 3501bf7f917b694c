"""Members: the roster, managers, and the platform accounts that speak for them."""
from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from rules.enums import MANAGES
from storage import models as m

Mb = m.Member
PLATFORMS = tuple(c.name.removesuffix("_id") for c in Mb.__table__.c           # those with an account column
                  if c.name.endswith("_id") and c.name != "project_id")
_DIRECTORY = (select(Mb.name, m.Project.name, m.Project.roster_version, *(getattr(Mb, f"{p}_id") for p in PLATFORMS))
              .join(m.Project, m.Project.id == Mb.project_id).where(Mb.active.is_(True)).order_by(Mb.id))



class Members:
    def __init__(self, s: Session):
        self.s = s

    def add(self, row: m.Member) -> m.Member:
        self.s.add(row)
        return row

    def of_project(self, project_id: int) -> list[m.Member]:
        return list(self.s.scalars(select(Mb).where(Mb.project_id == project_id)))

    def active_roster(self, project_id: int) -> list:
        """(name, role, position) of the active members, in 接待排序表 order."""
        return list(self.s.execute(select(Mb.name, Mb.role, Mb.position).where(
            Mb.project_id == project_id, Mb.active.is_(True)).order_by(Mb.position, Mb.id)))

    def named(self, project_id: int, name: str, active_only: bool = False) -> m.Member | None:
        q = select(Mb).where(Mb.project_id == project_id, Mb.name == name)
        return self.s.scalars(q.where(Mb.active.is_(True)) if active_only else q).first()

    def manager_names(self, project_id: int, by_position: bool = False) -> list[str]:
        """The active managers' names (`by_position`: in 接待排序表 order)."""
        if by_position:
            q = select(Mb.name).where(Mb.project_id == project_id, Mb.role.in_(MANAGES),
                                      Mb.active.is_(True)).order_by(Mb.position)
        else:
            q = select(Mb.name).where(Mb.project_id == project_id, Mb.active.is_(True), Mb.role.in_(MANAGES))
        return list(self.s.scalars(q))

    def active_named_anywhere(self, name: str, project: str | None) -> list[tuple[m.Member, str]]:
        """(member, project name) of the active members called `name` (in `project`, or in any)."""
        q = select(Mb, m.Project.name).join(m.Project, m.Project.id == Mb.project_id).where(
            Mb.name == name, Mb.active.is_(True))
        return list(self.s.execute(q if project is None else q.where(m.Project.name == project)))

    def linked_to(self, platform: str, account: str) -> list[tuple[m.Member, str]]:
        """(member, project name) of the active members this platform account speaks for."""
        return list(self.s.execute(_linked_to(platform), {"account": account}))

    def directory(self) -> list[tuple[str, str, str, str, int]]:
        """(platform, account, project name, member name, the project's roster_version) of every account
        linked to an active member, in member order: who every sender is, in one statement."""
        rows = self.s.execute(_DIRECTORY).all()
        return [(platform, account, pname, name, version) for name, pname, version, *ids in rows
                for platform, account in zip(PLATFORMS, ids, strict=True) if account]

    def account_of(self, platform: str, project: str, name: str) -> str | None:
        return self.s.scalar(select(_account(platform)).join(m.Project, m.Project.id == Mb.project_id).where(
            m.Project.name == project, Mb.name == name))

    def name_of_account(self, platform: str, account: str) -> str | None:
        return self.s.scalar(select(Mb.name).where(_account(platform) == account))

    def linked_or_named(self, project_id: int, platform: str, account: str, name: str) -> list[m.Member]:
        """The project's members this account speaks for, and the member called `name`."""
        return list(self.s.scalars(select(Mb).where(Mb.project_id == project_id, or_(
            _account(platform) == account, Mb.name == name)).order_by(Mb.id)))


def _account(platform: str):
    return getattr(Mb, f"{platform}_id")


@cache
def _linked_to(platform: str):
    """Who an account speaks for (every first message of a sender looks): built once per platform."""
    return select(Mb, m.Project.name).join(m.Project, m.Project.id == Mb.project_id).where(
        _account(platform) == bindparam("account"), Mb.active.is_(True))
