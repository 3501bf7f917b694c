"""config.yaml → one typed, validated object (pydantic). Loaded once, at the edge.

A config cannot lie: what PyYAML would silently misread (9:00 as the number 540, a key written twice)
and what would only fail at the first message (a zoned time, an account for two people) is refused
at load, in one line naming the key."""
from __future__ import annotations

import re
from dataclasses import asdict
from datetime import time
from pathlib import Path
from typing import get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from handlers.settings import ProjectSettings
from rules import texts as T
from rules.normalize import fold_name, member_name_problem
from rules.policy import PRESETS, Policy

MAX_PROJECT_NAME = 100


class ConfigError(Exception):
    """config.yaml is wrong; the message says where and how to fix it."""


# ---- times: a quoted "HH:MM" -------------------------------------------------------------------
class Unquoted(str):
    """A scalar YAML 1.1 reads as a base-60 number (9:00 → 540, 21:00 → 1260): kept as the text typed,
    so that a time written without quotes is refused rather than read as 00:09."""


_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_ZONED = re.compile(r"(\d{1,2}:\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)", re.I)


def clock_time(v: object) -> time:
    """A time of day from config.yaml: a quoted "HH:MM" (24-hour, no zone); ValueError says why not."""
    if isinstance(v, time):                         # a Config built in Python
        if v.tzinfo is None:
            return v
        raise ValueError(T.CFG_TIME_ZONED.format(value=v.isoformat(), fix=f"{v:%H:%M}"))
    if isinstance(v, Unquoted):
        raise ValueError(T.CFG_TIME_UNQUOTED.format(text=v, fix=_meant(v)))
    text = v.strip() if isinstance(v, str) else ""
    if mt := _HHMM.fullmatch(text):
        return time(int(mt[1]), int(mt[2]))
    if mt := _ZONED.fullmatch(text):
        raise ValueError(T.CFG_TIME_ZONED.format(value=v, fix=_meant(mt[1])))
    raise ValueError(T.CFG_TIME_FORMAT.format(value=repr(v) if isinstance(v, str) else v))


def _meant(text: str) -> str:
    """9:00 → 09:00, 21:00:00 → 21:00: the time the operator meant, for the fix (else the example)."""
    mt = _HHMM.match(text)
    return f"{int(mt[1]):02d}:{mt[2]}" if mt else "09:00"


# ---- names -------------------------------------------------------------------------------------
def member_name(v: str) -> str:
    """A roster name as the chat compares it (阿依•古丽 is 阿依·古丽): a letter in it, RULES §5.1."""
    name = fold_name(v)
    if not any(ch.isalpha() for ch in name):
        raise ValueError(T.CFG_NAME_NO_LETTER.format(name=v))
    why = member_name_problem(name)
    if why:
        raise ValueError(T.CFG_NAME_BAD.format(name=v, why=why))
    return name


def project_name(v: str) -> str:
    name = v.strip()
    if not any(ch.isalpha() for ch in name):
        raise ValueError(T.CFG_NAME_NO_LETTER.format(name=v))
    if len(name) > MAX_PROJECT_NAME:
        raise ValueError(T.CFG_NAME_BAD.format(name=v, why=T.CFG_NAME_TOO_LONG.format(limit=MAX_PROJECT_NAME)))
    return name


# ---- the models --------------------------------------------------------------------------------
class MemberCfg(BaseModel):
    """A person on the roster, with an account per platform (trusted). A platform field here is a
    platform config.yaml knows (PLATFORMS): a new one (wecom) is one more field."""
    model_config = ConfigDict(extra="forbid")
    name: str
    feishu: str | None = None
    wechat: str | None = None
    wecom: str | None = None            # 企业微信 userid

    _name = field_validator("name")(lambda cls, v: member_name(v))


PLATFORMS = tuple(f for f in MemberCfg.model_fields if f != "name")     # of member accounts and of chats


def _members(v, info):
    """`managers: [张经理]` or a list of {name, feishu, wechat, wecom}; a bare string is refused, not split.
    No `managers` at all is refused; `managers: []` says they are all in the database (/成员 经理)."""
    if v is None:
        if info.field_name == "managers":
            raise ValueError(T.CFG_NO_MANAGERS)
        return []
    if not isinstance(v, list):
        raise ValueError(T.CFG_NOT_A_LIST.format(key=info.field_name,
                                                 example=v if isinstance(v, str) else T.CFG_LIST_EXAMPLE))
    return [m if isinstance(m, dict) else {"name": "" if m is None else m} for m in v]


def _chats(v):
    """`chats: {feishu: [oc_xxx], wechat: ["xxxx@chatroom"]}`: only platforms the bot knows."""
    if v is None:
        return {}
    unknown = [k for k in v if k not in PLATFORMS] if isinstance(v, dict) else []
    if unknown:
        raise ValueError(T.CFG_PLATFORM.format(name=unknown[0], names="、".join(PLATFORMS)))
    return v


class ShiftCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: time = time(9, 0)
    end: time = time(18, 0)

    _hhmm = field_validator("start", "end", mode="before")(lambda cls, v: clock_time(v))

    @model_validator(mode="after")
    def _order(self):
        if self.start >= self.end:
            raise ValueError(T.CFG_SHIFT_ORDER.format(start=f"{self.start:%H:%M}", end=f"{self.end:%H:%M}"))
        return self


class ProjectCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    shift: ShiftCfg = ShiftCfg()
    timezone: str | None = None
    managers: list[MemberCfg] = Field(None, validate_default=True)
    salespeople: list[MemberCfg] = []
    policy: dict = {}
    chats: dict[str, list[str]] = {}

    _n = field_validator("name")(lambda cls, v: project_name(v))
    _m = field_validator("managers", "salespeople", mode="before")(lambda cls, v, info: _members(v, info))
    _p = field_validator("policy", mode="before")(lambda cls, v: {} if v is None else v)
    _c = field_validator("chats", mode="before")(lambda cls, v: _chats(v))

    @model_validator(mode="after")
    def _unique(self):
        names = [m.name for m in self.salespeople + self.managers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(T.CFG_DUPLICATE_MEMBERS.format(names="、".join(dup)))
        return self


class WebCfg(BaseModel):
    """The live board and report pages (`reception-bot web`, or inside `run` when set)."""
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: StrictInt = Field(8080, ge=1, le=65535)
    base_url: str = ""          # how phones and TVs reach it, e.g. http://192.168.1.20:8080 (default: host:port)
    max_streams: StrictInt = Field(200, ge=1)               # open board event streams in all (over it: 503)
    max_streams_per_board: StrictInt = Field(20, ge=1)      # … and for one board

    def url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


class OpsCfg(BaseModel):
    """Running it as a service: /healthz /readyz /metrics (on the `web:` pages' port when `web:` is set, else on
    this host and port) and the watchdog for deaf platform connections."""
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: StrictInt = Field(8080, ge=0, le=65535)                  # 0: any free port (tests)
    watchdog_seconds: float = Field(120.0, gt=0, le=3600)          # no frame, event or heartbeat for this long: restart
    alert_minutes: float = Field(10.0, gt=0, le=1440)              # down this long: the managers are told privately
    outbox_late_minutes: float = Field(5.0, gt=0, le=1440)         # /readyz fails on an unsent message this old


def _some(v):
    if v == []:
        raise ValueError(T.CFG_NO_PROJECTS)
    return v


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite:///data/reception.db"
    policy: dict = {}
    projects: list[ProjectCfg]
    feishu: dict = {}
    wechat: dict = {}
    wecom: dict = {}
    web: WebCfg | None = None
    ops: OpsCfg = OpsCfg()

    _p = field_validator("policy", "feishu", "wechat", "wecom", mode="before")(lambda cls, v: {} if v is None else v)
    _s = field_validator("projects", mode="before")(lambda cls, v: _some(v))

    @model_validator(mode="after")
    def _unique(self):
        names = [p.name for p in self.projects]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(T.CFG_DUPLICATE_PROJECTS.format(names="、".join(dup)))
        return self


# ---- policy --------------------------------------------------------------------------------------
# Numbers a sales office may set, and the range that makes sense (RULES: policy settings).
RANGES = {
    "tracking_days": (1, 365),
    "deal_appeal_days": (0, 365),
    "deal_split": (0.0, 1.0),
    "non_buyer_window_minutes": (0, 120),
    "max_reception_minutes": (1, 1440),
    "big_order_units": (1, 99),
    "named_confirm_minutes": (1, 120),
}
CHOICES = {"daily_order": ("carry_over", "fixed"), "brought_closed_counted": ("never", "if_registered", "always"),
           "benefit_notice": ("each", "daily", "off")}
_POLICY_TYPES = get_type_hints(Policy)
POLICY_TIMES = tuple(k for k, t in _POLICY_TYPES.items() if t is time)     # remind_time, quiet_start, quiet_end
# Policy's own types, strictly: `tracking_days: true` is not 1, `phone_duty: 1` is not true
_StrictPolicy = create_model("Policy", __config__=ConfigDict(strict=True, extra="forbid"),
                             **{k: (t, ...) for k, t in _POLICY_TYPES.items()})


def policy_from(base: dict, override: dict, where: str = "policy") -> Policy:
    """The preset named in `base`/`override`, with their settings; `where` names the block in errors."""
    merged = {**(base or {}), **(override or {})}
    if merged.get("benefit_notice") is False:     # YAML reads a bare `off` as false
        merged["benefit_notice"] = "off"
    name = merged.pop("preset", "real_estate")
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(T.CFG_PRESET.format(where=where, name=name, names="、".join(PRESETS)))
    p = PRESETS[name]
    written = _quiet_hours(merged, where)
    data = {**asdict(p), **merged}
    unknown = sorted(str(k) for k in set(data) - set(asdict(p)))
    if unknown:
        raise ConfigError(T.CFG_UNKNOWN_SETTINGS.format(where=where, names="、".join(unknown)))
    for key in POLICY_TIMES:
        try:
            data[key] = clock_time(data[key])
        except ValueError as e:
            raise ConfigError(T.CFG_KEY.format(key=f"{where}.{written.get(key, key)}", why=e)) from None
    try:
        pol = Policy(**dict(_StrictPolicy.model_validate(data)))
    except ValidationError as e:
        raise ConfigError(_explain(e, where)) from None
    _in_range(pol, where)
    return pol


def _quiet_hours(merged: dict, where: str) -> dict[str, str]:
    """`quiet_hours: ["21:00", "08:30"]` → quiet_start, quiet_end in `merged`; how they were written."""
    if "quiet_hours" not in merged:
        return {}
    q = merged.pop("quiet_hours")
    if not isinstance(q, list) or len(q) != 2:
        raise ConfigError(T.CFG_QUIET_HOURS.format(where=where))
    merged["quiet_start"], merged["quiet_end"] = q
    return {"quiet_start": "quiet_hours[0]", "quiet_end": "quiet_hours[1]"}


def _in_range(pol: Policy, where: str) -> None:
    for key, (low, high) in RANGES.items():
        if not low <= getattr(pol, key) <= high:
            raise ConfigError(T.CFG_RANGE.format(key=f"{where}.{key}", low=low, high=high, value=getattr(pol, key)))
    for key, allowed in CHOICES.items():
        if getattr(pol, key) not in allowed:
            raise ConfigError(T.CFG_CHOICE.format(key=f"{where}.{key}", allowed=" 或 ".join(allowed),
                                                  value=getattr(pol, key)))


# ---- the projects, resolved ------------------------------------------------------------------------
def project_settings(cfg: Config) -> list[ProjectSettings]:
    out = []
    policy_from(cfg.policy, {})              # a mistake in the top-level block is named there
    _one_person_per_account(cfg)
    _one_project_per_chat(cfg)
    for i, p in enumerate(cfg.projects):
        tzname = p.timezone or cfg.timezone
        try:
            tz = ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError):
            key = f"projects.{i}.timezone" if p.timezone else "timezone"
            raise ConfigError(T.CFG_TIMEZONE.format(key=key, name=tzname)) from None
        pol = policy_from(cfg.policy, p.policy, f"projects.{i}.policy")
        ids = tuple((m.name, plat, getattr(m, plat)) for m in p.salespeople + p.managers
                    for plat in PLATFORMS if getattr(m, plat))
        chats = tuple((plat, c) for plat, lst in p.chats.items() for c in lst)
        out.append(ProjectSettings(p.name, tz, p.shift.start, p.shift.end, pol,
                                   tuple(m.name for m in p.managers),
                                   tuple(m.name for m in p.salespeople), ids, chats,
                                   web_url=cfg.web.url() if cfg.web else ""))
    return out


def _one_person_per_account(cfg: Config) -> None:
    """A platform account speaks for one name: the same person may be on several projects' rosters."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for plat, uid, name, key in _accounts(cfg):
        first, first_key = seen.setdefault((plat, uid), (name, key))
        if first != name:
            raise ConfigError(T.CFG_ACCOUNT_TWICE.format(key=key, platform=T.PLATFORMS.get(plat, plat), uid=uid,
                                                         first=first, first_key=first_key, name=name))


def _accounts(cfg: Config):
    """(platform, account, name, key) of every account written in config.yaml."""
    for i, p in enumerate(cfg.projects):
        for role in ("managers", "salespeople"):
            for j, m in enumerate(getattr(p, role)):
                yield from ((plat, getattr(m, plat), m.name, f"projects.{i}.{role}.{j}.{plat}")
                            for plat in PLATFORMS if getattr(m, plat))


def _one_project_per_chat(cfg: Config) -> None:
    """A group chat belongs to one project (the binding a message is routed by)."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for i, p in enumerate(cfg.projects):
        for plat, chats in p.chats.items():
            key = f"projects.{i}.chats.{plat}"
            for chat in chats:
                first, first_key = seen.setdefault((plat, chat), (p.name, key))
                if first != p.name:
                    raise ConfigError(T.CFG_CHAT_TWICE.format(
                        key=key, platform=T.PLATFORMS.get(plat, plat), chat=chat, first=first,
                        first_key=first_key, second=p.name))


# ---- the file --------------------------------------------------------------------------------------
def load_config(path: str | Path) -> Config:
    """config.yaml → Config; every mistake is a ConfigError whose one line names the key or the file."""
    raw = _read_yaml(Path(path))
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(T.CFG_AT.format(path=path, error=_explain(e, ""))) from None
    try:
        project_settings(cfg)      # validate policies, time zones, accounts and chats now, not at the first message
    except ConfigError as e:
        raise ConfigError(T.CFG_AT.format(path=path, error=e)) from None
    return cfg


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error (not the
    last one silently winning) and a base-60 scalar (9:00) stays the text typed (`Unquoted`)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else ():
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, T.CFG_DUPLICATE_KEY.format(
                        key=key_node.value, first=seen[key] + 1), key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _base60_as_text(construct):
    return lambda loader, node: Unquoted(node.value) if ":" in str(node.value) else construct(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:int", _base60_as_text(yaml.constructor.SafeConstructor.construct_yaml_int))
_Loader.add_constructor("tag:yaml.org,2002:float",
                        _base60_as_text(yaml.constructor.SafeConstructor.construct_yaml_float))


def _read_yaml(path: Path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(T.CFG_NOT_FOUND.format(path=path)) from None
    except IsADirectoryError:
        raise ConfigError(T.CFG_IS_DIR.format(path=path)) from None
    except OSError as e:
        raise ConfigError(T.CFG_UNREADABLE.format(path=path, why=e.strerror)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ConfigError(T.CFG_NOT_UTF8.format(path=path, line=line)) from None
    try:
        return yaml.load(text, Loader=_Loader) or {}       # _Loader is a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = T.CFG_YAML_AT.format(line=mark.line + 1, column=mark.column + 1) if mark else ""
        raise ConfigError(T.CFG_BAD_YAML.format(path=path, at=at, why=getattr(e, "problem", None) or e)) from None


def _explain(e: ValidationError, prefix: str) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in (prefix, *err["loc"]) if x != "") or T.CFG_WHOLE_FILE
        msg = T.CFG_MESSAGES.get(err["type"]) or str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "；".join(parts)
