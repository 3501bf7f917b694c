"""/确认 姓名 (a manager links the account that said 「我是 姓名」), and 我是 / 绑定 on the console."""
from __future__ import annotations

from handlers import commands as c
from handlers.context import Ctx
from handlers.reply import Reply, Tell
from rules import texts as T
from rules.enums import MANAGES
from rules.errors import Refused
from storage.uow import UnitOfWork


def link(uow: UnitOfWork, platform: str, account: str, project_id: int, name: str) -> None:
    """Link the account to `name` in the project; it speaks for no other name there, and no claim waits.
    Row by row (not a bulk UPDATE), so the change log sees it and /撤销 can undo it."""
    col = f"{platform}_id"
    for row in uow.members.linked_or_named(project_id, platform, account, name):
        setattr(row, col, account if row.name == name else None)
    for claim in uow.links.claims_for(project_id, name, platform):
        uow.links.drop(claim)
    uow.flush()


def confirm(cmd: c.Confirm, ctx: Ctx) -> Reply:
    """/确认 甲: every account waiting to be 甲 in this project is linked to 甲 (a manager's name needs a code)."""
    row = ctx.uow.members.named(ctx.project.id, cmd.name, active_only=True)
    if row is None:
        raise Refused(T.CONFIRM_NOT_ON_ROSTER.format(name=cmd.name))
    claims = ctx.uow.links.claims_for(ctx.project.id, cmd.name)
    if not claims:
        raise Refused(T.CONFIRM_NOTHING.format(name=cmd.name))
    if row.role in MANAGES:
        raise Refused(T.CONFIRM_MANAGER.format(name=cmd.name))
    for claim in claims:
        link(ctx.uow, claim.platform, claim.account, ctx.project.id, cmd.name)
    platforms = "、".join(T.PLATFORMS.get(x.platform, x.platform) for x in claims)
    ctx.note(T.CONFIRM_NOTE.format(manager=ctx.sender, name=cmd.name, platforms=platforms))
    return Reply(T.CONFIRMED.format(name=cmd.name, platforms=platforms),
                 tells=(Tell(cmd.name, T.CONFIRM_TOLD.format(name=cmd.name)),))


def on_console_whoami(cmd: c.WhoAmI, ctx: Ctx) -> Reply:
    """On the console (and in replay / say) the sender is named on each line: nothing to link."""
    return Reply(T.CONSOLE_KNOWN.format(name=ctx.sender))


def on_console_bind(cmd: c.Bind, ctx: Ctx) -> Reply:
    return Reply(T.CONSOLE_NO_BIND.format(project=ctx.project.name))
