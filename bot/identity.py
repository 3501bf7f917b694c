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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.outbox import reply_key
from handlers import commands as c
from handlers.commands import WhoAmI
from handlers.identity import link
from handlers.messages import Incoming, Outgoing
from handlers.settings import ProjectSettings
from rules import texts as T
from rules.enums import MANAGES
from storage import models as m
from storage.uow import UnitOfWork, Units

CODE_MINUTES = 10
CODE_TTL = timedelta(minutes=CODE_MINUTES)
MAX_TRIES = 5                       # wrong codes before a code is burnt, and per account within CODE_TTL
CLAIM_TTL = timedelta(days=1)       # a claim no manager confirmed within this gives way to a new one


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
    if uow.links.guesses(who.platform, who.account, now - CODE_TTL) >= MAX_TRIES:
        return Answer(T.WHOAMI_CODE_SLOW_DOWN.format(minutes=CODE_MINUTES))     # per account, checked first
    live = uow.links.live_codes(name, projects, now)
    hit = next((c for c in live if _matches(c.code_hash, code)), None)
    if not who.private:
        if hit is not None:
            uow.links.burn(hit, now)    # the right code was seen in a group: burnt; a wrong one voids nothing
        return Answer(T.WHOAMI_CODE_IN_GROUP.format(name=name))
    if hit is None:
        uow.links.guessed(who.platform, who.account, now)
        for c in live:                  # atomic: concurrent guesses cannot lose a try
            uow.links.count_try(c, MAX_TRIES, now)
        return Answer(T.WHOAMI_CODE_WRONG.format(name=name, minutes=CODE_MINUTES))
    if not uow.links.burn(hit, now):    # another process used or burnt it meanwhile
        return Answer(T.WHOAMI_CODE_WRONG.format(name=name, minutes=CODE_MINUTES))
    link(uow, who.platform, who.account, hit.project_id, name)
    return Answer(T.WHOAMI_CODE_OK.format(name=name, project=projects[hit.project_id]))


def _wait_for_manager(uow: UnitOfWork, who: Claimant, name: str, rows, now: datetime) -> Answer:
    answer = Answer(T.WHOAMI_WAITS.format(name=name))
    label = T.CLAIM_WHO_NAMED.format(display=who.display) if who.display else T.CLAIM_WHO_UNNAMED
    for r, project in rows:
        old = uow.links.claim_of(r.project_id, name, who.platform)
        if old is not None and old.account == who.account:
            continue                   # asked before: the managers were told then
        if old is not None and now - old.at < CLAIM_TTL:    # the first claim stands; the managers hear of both
            answer.text = T.WHOAMI_CLAIM_PENDING.format(name=name)
            rival = T.CLAIM_RIVAL.format(who=label, first=_claimant(old), name=name)
            answer.notices += [(project, mgr, rival) for mgr in uow.members.manager_names(r.project_id)]
            continue
        if old is not None:            # a claim nobody confirmed within CLAIM_TTL gives way
            uow.links.drop(old)
            uow.flush()
        uow.links.add(m.LinkClaim(project_id=r.project_id, name=name, platform=who.platform, account=who.account,
                                  display=who.display[:80], at=now))
        text = T.CLAIM_NOTICE.format(
            who=label, platform=T.PLATFORMS.get(who.platform, who.platform), name=name,
            linked=T.CLAIM_LINKED if getattr(r, f"{who.platform}_id") else "",
            rival=T.CLAIM_REPLACED if old is not None else "")
        managers = uow.members.manager_names(r.project_id)
        answer.notices += [(project, mgr, text) for mgr in managers]
    return answer


def _claimant(claim: m.LinkClaim) -> str:
    return T.CLAIM_WHO_NAMED.format(display=claim.display) if claim.display else T.CLAIM_WHO_UNNAMED


# ---- who is speaking: the bus's identity step ------------------------------------------------
Say = Callable[[Incoming, "str | None", str, str], list[Outgoing]]     # (msg, project, text, tag) → replies


def _key(msg: Incoming) -> tuple:
    return (msg.platform, msg.chat_id, msg.sender_id, msg.project)


class Answered(Exception):
    """The message is answered before any command runs (an unknown sender, 我是, /绑定): these replies."""

    def __init__(self, replies: list[Outgoing]):
        super().__init__()
        self.replies = replies


class Directory:
    """Who every linked account is and which project every bound chat belongs to, as read at once under
    each project's roster_version (a sender found here holds while their project's version is the same)."""

    def __init__(self, accounts: list[tuple[str, str, str, str, int]], chats: list[tuple[str, str, str]]):
        self.accounts: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
        for platform, account, project, name, version in accounts:
            self.accounts.setdefault((platform, account), []).append((project, name, version))
        self.chats = {(platform, chat): project for platform, chat, project in chats}

    def who(self, msg: Incoming) -> tuple[tuple[str, str], int] | None:
        """As `Identities._lookup` finds a sender: in the message's project (given, or its chat's), or in
        any project for a private message; the first in member order."""
        project = msg.project
        if project is None and msg.chat_id:
            project = self.chats.get((msg.platform, msg.chat_id))
            if project is None:
                return None                 # (an unbound chat: the lookup answers)
        for pname, name, version in self.accounts.get((msg.platform, msg.sender_id), ()):
            if project in (None, pname):
                return (pname, name), version
        return None


class Identities:
    """(project, member name) of a message's sender; 「我是」 and /绑定 are answered here.

    Platform lookups are remembered under the roster_version of the sender's project, read with the
    project's lock by the sender's next command (`holds`): a member or chat change in any process bumps
    the version, and the sender is then looked up again (this process forgets them all on 我是, /绑定,
    /成员, /确认)."""

    def __init__(self, uows: Units, projects: dict[str, ProjectSettings], outbox, say: Say,
                 typed_names: frozenset[str] = frozenset()):
        self.uows, self.projects, self.outbox, self.say = uows, projects, outbox, say
        self.typed_names = typed_names      # platforms whose sender id is the member's name (the console)
        self.default = next(iter(projects))
        self._who: dict[tuple, list] = {}     # key → [(project, name), roster_version or None: not yet read]
        self._directory: Directory | None = None      # every linked account and bound chat (read when needed)
        self._trusted = {(p.name, name, plat): uid for p in projects.values() for name, plat, uid in p.ids}

    def forget(self) -> None:
        self._who.clear()
        self._directory = None

    def resolve(self, msg: Incoming, cmd) -> tuple[str, str]:
        """(project, member name) for the message; raises Answered with the reply explaining why not
        (or answering 我是 and /绑定, which end here)."""
        if msg.platform in self.typed_names:
            return (msg.project or self.default), msg.sender_id
        key = _key(msg)
        if not isinstance(cmd, c.Bind | c.WhoAmI):         # (those two are answered by the lookup)
            hit = self._who.get(key)
            if hit:
                return hit[0]
            known = self._known(msg)
            if known is not None:
                self._who[key] = list(known)
                return known[0]
        try:
            who = self._lookup(msg, cmd)
        except Answered:
            self._who.clear()
            raise
        self._who[key] = [who, None]
        return who

    def _known(self, msg: Incoming) -> tuple[tuple[str, str], int] | None:
        """((project, name), the project's roster_version) from the directory of every linked account,
        read in one transaction the first time a sender is not remembered (not once per sender); None
        when the directory does not know the sender (then the lookup answers them)."""
        if self._directory is None:
            with self.uows(readonly=True) as uow:
                self._directory = Directory(uow.members.directory(), uow.projects.chat_bindings())
        return self._directory.who(msg)

    def holds(self, msg: Incoming, roster_version: int) -> bool:
        """Under the lock of the project the sender resolved to: whether that still holds. A lookup made
        just now is kept under the version read here; a remembered one holds while the version is the
        same, else it is forgotten (the caller resolves the sender again)."""
        key = _key(msg)
        hit = self._who.get(key) if msg.platform not in self.typed_names else None
        if hit is None or hit[1] == roster_version:
            return True
        if hit[1] is None:
            hit[1] = roster_version
            return True
        del self._who[key]
        self._directory = None          # (read under an older version too)
        return False

    def name_of(self, msg: Incoming) -> str | None:
        if msg.platform in self.typed_names:
            return msg.sender_id
        with self.uows(readonly=True) as uow:
            return uow.members.name_of_account(msg.platform, msg.sender_id)

    def _lookup(self, msg: Incoming, cmd) -> tuple[str, str]:
        with self.uows(readonly=not isinstance(cmd, c.Bind | c.WhoAmI)) as uow:
            project = msg.project
            if project is None and msg.chat_id:
                project = uow.projects.name_of_chat(msg.platform, msg.chat_id)
            found = [(mem, pname) for mem, pname in uow.members.linked_to(msg.platform, msg.sender_id)
                     if project in (None, pname)]
            if isinstance(cmd, c.Bind):
                raise Answered(self._bind(uow, msg, cmd, found))
            if isinstance(cmd, c.WhoAmI):
                raise Answered(self._learn(uow, msg, cmd, project))
            if project is None and not found:
                raise Answered(self.say(msg, None, T.UNBOUND_CHAT, "unbound"))
            if not found:
                raise Answered(self.say(msg, project, T.UNKNOWN_SENDER, "who"))
            mem, pname = found[0]
            return pname, mem.name

    def _bind(self, uow, msg, cmd: c.Bind, found) -> list[Outgoing]:
        if not msg.chat_id:
            return self.say(msg, None, T.BIND_IN_GROUP, "bind")
        p = uow.projects.named(cmd.project)
        if p is None:
            return self.say(msg, None, T.NO_SUCH_PROJECT.format(name=cmd.project, names="、".join(self.projects)),
                            "bind")
        if not any(pname == cmd.project and mem.role in MANAGES for mem, pname in found):
            return self.say(msg, None, T.BIND_MANAGERS_ONLY.format(project=cmd.project), "bind")
        b = uow.projects.binding(msg.platform, msg.chat_id)
        if b is None:
            uow.projects.bind(msg.platform, msg.chat_id, p.id)
        else:
            b.project_id = p.id
        out = self.outbox.write(uow, self.say(msg, cmd.project, T.BOUND.format(project=cmd.project), "bind"),
                                msg.at, numbered=msg.event_id is None)
        uow.commit()
        return out

    def _learn(self, uow, msg, cmd: c.WhoAmI, project: str | None) -> list[Outgoing]:
        """我是 姓名 [验证码] (bot/identity.py): linked now, or waiting for a manager, or refused."""
        who = Claimant(msg.platform, msg.sender_id, msg.sender_name or "", msg.private)
        answer = claim(uow, who, cmd, project, msg.at, self._trusted)
        out = self.say(msg, project, answer.text, "who") + [
            Outgoing(text, to=mgr, project=p, key=reply_key(msg, f"who{i}"), platform=msg.platform)
            for i, (p, mgr, text) in enumerate(answer.notices)]
        out = self.outbox.write(uow, out, msg.at, numbered=msg.event_id is None)
        uow.commit()
        return out
