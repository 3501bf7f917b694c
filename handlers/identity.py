"""/确认 姓名 (a manager links the account that said 「我是 姓名」), and 我是 / 绑定 on the console."""
from __future__ import annotations

from sqlalchemy import or_, select

from handlers import commands as c
from handlers.context import Ctx
from rules import texts as T
from rules.errors import Refused
from storage import models as m


def link(s, platform: str, account: str, project_id: int, name: str) -> None:
    """Link the account to `name` in the project; it speaks for no other name there, and no claim waits.
    Row by row (not a bulk UPDATE), so the change log sees it and /撤销 can undo it."""
    col = f"{platform}_id"
    rows = s.scalars(select(m.Member).where(m.Member.project_id == project_id, or_(
        getattr(m.Member, col) == account, m.Member.name == name)))
    for row in rows:
        setattr(row, col, account if row.name == name else None)
    for claim in s.scalars(select(m.LinkClaim).where(m.LinkClaim.project_id == project_id,
                                                     m.LinkClaim.name == name, m.LinkClaim.platform == platform)):
        s.delete(claim)
    s.flush()


def confirm(cmd: c.Confirm, ctx: Ctx) -> str:
    """/确认 甲: every account waiting to be 甲 in this project is linked to 甲 (a manager's name needs a code)."""
    row = ctx.s.scalars(select(m.Member).where(m.Member.project_id == ctx.project.id, m.Member.name == cmd.name,
                                               m.Member.active.is_(True))).first()
    if row is None:
        raise Refused(T.CONFIRM_NOT_ON_ROSTER.format(name=cmd.name))
    claims = list(ctx.s.scalars(select(m.LinkClaim).where(m.LinkClaim.project_id == ctx.project.id,
                                                          m.LinkClaim.name == cmd.name)))
    if not claims:
        raise Refused(T.CONFIRM_NOTHING.format(name=cmd.name))
    if row.role in ("manager", "both"):
        raise Refused(T.CONFIRM_MANAGER.format(name=cmd.name))
    for claim in claims:
        link(ctx.s, claim.platform, claim.account, ctx.project.id, cmd.name)
    platforms = "、".join(T.PLATFORMS.get(x.platform, x.platform) for x in claims)
    ctx.note(T.CONFIRM_NOTE.format(manager=ctx.sender, name=cmd.name, platforms=platforms))
    ctx.tell(cmd.name, T.CONFIRM_TOLD.format(name=cmd.name))
    return T.CONFIRMED.format(name=cmd.name, platforms=platforms)


def on_console_whoami(cmd: c.WhoAmI, ctx: Ctx) -> str:
    """On the console (and in replay / say) the sender is named on each line: nothing to link."""
    return T.CONSOLE_KNOWN.format(name=ctx.sender)


def on_console_bind(cmd: c.Bind, ctx: Ctx) -> str:
    return T.CONSOLE_NO_BIND.format(project=ctx.project.name)
