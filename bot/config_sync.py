"""config.yaml → the database at start-up: projects, members, roles, platform ids and chat bindings.

Members and roles changed with /成员 in the database are kept; config managers are always managers (RULES §9)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from handlers.jobs import initial_times
from handlers.settings import ProjectSettings
from rules.enums import SELLS, Role
from storage import models as m
from storage.uow import UnitOfWork, Units


def sync(uows: Units, projects: dict[str, ProjectSettings], now: datetime) -> None:
    """Create projects and members from the config; /成员 changes in the database are kept."""
    try:
        _sync(uows, projects, now)
    except IntegrityError:          # another process created them at the same moment
        _sync(uows, projects, now)


def _sync(uows: Units, projects: dict[str, ProjectSettings], now: datetime) -> None:
    with uows() as uow:
        for ps in projects.values():
            p = uow.projects.named(ps.name)
            if p is None:
                opens, summary = initial_times(now.astimezone(ps.tz), ps)
                p = uow.projects.add(m.Project(name=ps.name, state={}, next_open_at=opens,
                                               next_summary_at=summary))
            _sync_members(uow, p, ps)
            for plat, chat in ps.chats:
                if uow.projects.binding(plat, chat) is None:
                    uow.projects.bind(plat, chat, p.id)
        uow.commit()


def _sync_members(uow: UnitOfWork, p: m.Project, ps: ProjectSettings) -> None:
    rows = {r.name: r for r in uow.members.of_project(p.id)}
    pos = max((r.position for r in rows.values()), default=0)
    roles = {n: Role.SALES for n in ps.salespeople}
    for n in ps.managers:
        roles[n] = Role.BOTH if n in roles else Role.MANAGER
    for name, role in roles.items():
        if name not in rows:
            pos += 1
            rows[name] = m.Member(project_id=p.id, name=name, role=role, position=pos)
            uow.members.add(rows[name])
    for name in ps.managers:         # config managers are always managers (RULES §9), whatever /成员 did
        r = rows[name]
        r.role = Role.BOTH if r.active and r.role in SELLS else Role.MANAGER
        r.active = True
    for name, plat, uid in ps.ids:
        setattr(rows[name], f"{plat}_id", uid)
