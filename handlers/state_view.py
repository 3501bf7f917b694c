"""The state dump (COMMANDS.md): today's queue, the register and the deals of one project."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import NoResultFound

from handlers.context import Ctx
from handlers.settings import ProjectSettings
from rules.customers import ACTIVE
from rules.queue import Day
from storage.uow import UnitOfWork


def dump(engine: Engine, ps: ProjectSettings, now: datetime) -> dict:
    project = ps.name
    local = now.astimezone(ps.tz)
    with UnitOfWork(engine, readonly=True) as uow:
        row = uow.projects.locked(project, for_update=False)
        if row is None:
            raise NoResultFound(f"no project {project}")
        ctx = Ctx(uow, row, ps, Day.from_dict(row.state), local, "")
        day = ctx.day if ctx.day_open() else Day()
        customers = []
        for c in uow.customers.of_project(row.id):
            d = ctx.domain(c)
            status = d.effective_status(local)
            customers.append({"name": c.name, "phone": c.phone, "owner": d.owner_at(local), "status": status,
                              "valid_until": d.valid_until.isoformat() if status == ACTIVE and d.valid_until else None,
                              "phones": ctx.phones_of(c)})        # RULES §5.5: every phone of the person
        deals = []
        for dl in uow.deals.of_project(row.id):
            cust = uow.customers.get(dl.customer_id)
            assert cust is not None, dl.id          # deals.customer_id is a foreign key
            deals.append({"customer": cust.name, "phone": cust.phone, "date": dl.day.isoformat(),
                          "units": dl.units, "shares": dict(dl.shares)})
        return {
            "project": project,
            "date": local.date().isoformat(),
            "now": local.isoformat(),
            "next": day.next_up(),
            "queue": [{"name": e.name, "presence": e.presence, "counted": e.counted,
                       "makeup": e.makeup is not None} for e in day.queue],
            "customers": customers,
            "deals": deals,
        }
