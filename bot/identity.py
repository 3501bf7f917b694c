"""Who may speak for whom (RULES §9): 「我是 姓名」, one-time codes and claims waiting for /确认.

- An account id written in config.yaml is trusted and never replaced from the chat.
- A manager's name is linked only with a one-time code (`reception-bot link 姓名`: 6 digits,
  CODE_TTL, one use, burnt after MAX_TRIES wrong tries), sent in a private chat.
- Any other name waits for a manager's `/确认 姓名`; the project's managers are told privately.
  A name already linked to another account is re-linked the same way, never directly.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from handlers.commands import WhoAmI
from handlers.identity import link
from rules import texts as T
from rules.enums import MANAGES
from storage import models as m
from storage.uow import UnitOfWork

CODE_MINUTES = 10
CODE_TTL = timedelta(minutes=CODE_MINUTES)
MAX_TRIES = 5


@dataclass
class Answer:
    """The reply to 「我是」 and the private notices (project, manager, text) it causes."""

    text: str
    notices: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Claimant:
    """Who says 「我是」: a platform account."""

    platform: str
    account: str
    display: str = ""          # the platform's display name, when known
    private: bool = False      # said in a private chat with the bot


def issue_code(engine: Engine, project: str, name: str, now: datetime) -> str | None:
    """A new one-time code for `name` of `project` (None if no such active member); only its hash is kept."""
    with UnitOfWork(engine) as uow:
        members = uow.members.active_named_anywhere(name, project)
        if not members:
            return None
        code, salt = f"{secrets.randbelow(10**6):06d}", secrets.token_hex(8)
        uow.links.add(m.LinkCode(project_id=members[0][0].project_id, name=name, code_hash=_hash(salt, code),
                                 created_at=now, expires_at=now + CODE_TTL))
        uow.commit()
    return code


def _hash(salt: str, code: str) -> str:
    return salt + "$" + hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _matches(stored: str, code: str) -> bool:
    return hmac.compare_digest(stored, _hash(stored.split("$", 1)[0], code))


def claim(uow: UnitOfWork, who: Claimant, said: WhoAmI, project: str | None, now: datetime,
          trusted: dict[tuple[str, str, str], str]) -> Answer:
    """「我是 name [code]」 (`said`) from `who`, in `project` (None: every project with that name). Caller commits."""
    name, code = said.name, said.code
    rows = uow.members.active_named_anywhere(name, project)
    if not rows:
        return Answer(T.WHOAMI_NOT_ON_ROSTER.format(name=name))
    col = f"{who.platform}_id"
    if all(getattr(r, col) == who.account for r, _ in rows):
        return Answer(T.WHOAMI_ALREADY.format(name=name))
    if any(trusted.get((p, name, who.platform)) not in (None, who.account) for _, p in rows):
        return Answer(T.WHOAMI_CONFIG.format(name=name))
    if code:
        return _with_code(uow, who, said, rows, now)
    if any(r.role in MANAGES for r, _ in rows):
        return Answer(T.WHOAMI_NEEDS_CODE.format(name=name))
    return _wait_for_manager(uow, who, name, rows, now)


def _with_code(uow: UnitOfWork, who: Claimant, said: WhoAmI, rows, now: datetime) -> Answer:
    name, code = said.name, said.code
    projects = {r.project_id: p for r, p in rows}
    live = uow.links.live_codes(name, projects, now)
    if not who.private:
        for c in live:
            c.used_at = now            # a code seen in a group is burnt
        return Answer(T.WHOAMI_CODE_IN_GROUP.format(name=name))
    hit = next((c for c in live if _matches(c.code_hash, code)), None)
    if hit is None:
        for c in live:
            c.tries += 1
            if c.tries >= MAX_TRIES:
                c.used_at = now
        return Answer(T.WHOAMI_CODE_WRONG.format(name=name, minutes=CODE_MINUTES))
    hit.used_at = now
    link(uow, who.platform, who.account, hit.project_id, name)
    return Answer(T.WHOAMI_CODE_OK.format(name=name, project=projects[hit.project_id]))


def _wait_for_manager(uow: UnitOfWork, who: Claimant, name: str, rows, now: datetime) -> Answer:
    answer = Answer(T.WHOAMI_WAITS.format(name=name))
    label = T.CLAIM_WHO_NAMED.format(display=who.display) if who.display else T.CLAIM_WHO_UNNAMED
    for r, project in rows:
        old = uow.links.claim_of(r.project_id, name, who.platform)
        if old is not None and old.account == who.account:
            continue                   # asked before: the managers were told then
        if old is not None:
            uow.links.drop(old)
            uow.session.flush()
        uow.links.add(m.LinkClaim(project_id=r.project_id, name=name, platform=who.platform, account=who.account,
                                  display=who.display[:80], at=now))
        text = T.CLAIM_NOTICE.format(
            who=label, platform=T.PLATFORMS.get(who.platform, who.platform), name=name,
            linked=T.CLAIM_LINKED if getattr(r, f"{who.platform}_id") else "",
            rival=T.CLAIM_REPLACED if old is not None else "")
        managers = uow.members.manager_names(r.project_id)
        answer.notices += [(project, mgr, text) for mgr in managers]
    return answer
