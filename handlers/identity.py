"""/确认 姓名 (a manager links the account that said 「我是 姓名」), and 我是 / 绑定 on the console."""
from __future__ import annotations

from sqlalchemy import or_, select

from handlers import commands as c
from handlers.context import Ctx
from rules.errors import Refused
from storage import models as m

PLATFORMS = {"feishu": "飞书", "wechat": "微信"}


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
        raise Refused(f"名单里没有「{cmd.name}」。")
    claims = list(ctx.s.scalars(select(m.LinkClaim).where(m.LinkClaim.project_id == ctx.project.id,
                                                          m.LinkClaim.name == cmd.name)))
    if not claims:
        raise Refused(f"没有等待确认的「我是 {cmd.name}」。请让本人先发「我是 {cmd.name}」。")
    if row.role in ("manager", "both"):
        raise Refused(f"「{cmd.name}」是经理，只能用一次性验证码绑定（reception-bot link {cmd.name}）。")
    for claim in claims:
        link(ctx.s, claim.platform, claim.account, ctx.project.id, cmd.name)
    platforms = "、".join(PLATFORMS.get(x.platform, x.platform) for x in claims)
    ctx.note(f"{ctx.sender} 确认了 {cmd.name} 的{platforms}账号")
    ctx.tell(cmd.name, f"经理已确认：你的账号已绑定为「{cmd.name}」。")
    return f"已确认：「{cmd.name}」的{platforms}账号已绑定。"


def on_console_whoami(cmd: c.WhoAmI, ctx: Ctx) -> str:
    """On the console (and in replay / say) the sender is named on each line: nothing to link."""
    return f"控制台里已按发送人「{ctx.sender}」识别，无需绑定。"


def on_console_bind(cmd: c.Bind, ctx: Ctx) -> str:
    return f"控制台里已按项目「{ctx.project.name}」运行（--project），无需绑定群。"
