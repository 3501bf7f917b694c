"""config.yaml → one typed, validated object (pydantic). Loaded once, at the edge."""
from __future__ import annotations

from dataclasses import asdict
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from handlers.settings import ProjectSettings
from rules import texts as T
from rules.normalize import fold_name
from rules.policy import PRESETS, Policy


class ConfigError(Exception):
    """config.yaml is wrong; the message says where and how to fix it."""


class MemberCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    feishu: str | None = None
    wechat: str | None = None

    _fold = field_validator("name")(lambda cls, v: fold_name(v))   # 阿依•古丽 is 阿依·古丽, as typed in the chat


def _members(v, info):
    """`managers: [张经理]` or a list of {name, feishu, wechat}; a bare string is refused, not split."""
    if v is None:
        return []
    if not isinstance(v, list):
        raise ValueError(T.CFG_NOT_A_LIST.format(key=info.field_name,
                                                 example=v if isinstance(v, str) else T.CFG_LIST_EXAMPLE))
    return [{"name": m} if isinstance(m, str) else m for m in v]


class ShiftCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: time = time(9, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _order(self):
        if self.start >= self.end:
            raise ValueError(T.CFG_SHIFT_ORDER.format(start=f"{self.start:%H:%M}", end=f"{self.end:%H:%M}"))
        return self


class ProjectCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    shift: ShiftCfg = ShiftCfg()
    timezone: str | None = None
    managers: list[MemberCfg] = []
    salespeople: list[MemberCfg] = []
    policy: dict = {}
    chats: dict[str, list[str]] = {}

    _m = field_validator("managers", "salespeople", mode="before")(lambda cls, v, info: _members(v, info))
    _p = field_validator("policy", "chats", mode="before")(lambda cls, v: {} if v is None else v)

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
    port: int = Field(8080, ge=1, le=65535)
    base_url: str = ""          # how phones and TVs reach it, e.g. http://192.168.1.20:8080 (default: host:port)

    def url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite:///data/reception.db"
    policy: dict = {}
    projects: list[ProjectCfg] = Field(min_length=1)
    feishu: dict = {}
    wechat: dict = {}
    web: WebCfg | None = None

    _p = field_validator("policy", "feishu", "wechat", mode="before")(lambda cls, v: {} if v is None else v)

    @model_validator(mode="after")
    def _unique(self):
        names = [p.name for p in self.projects]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(T.CFG_DUPLICATE_PROJECTS.format(names="、".join(dup)))
        return self


# Numbers a sales office may set, and the range that makes sense (RULES: policy settings).
RANGES = {
    "tracking_days": (1, 365),
    "deal_appeal_days": (0, 365),
    "deal_split": (0.0, 1.0),
    "non_buyer_window_minutes": (0, 120),
    "max_reception_minutes": (1, 1440),
    "big_order_units": (1, 99),
}
CHOICES = {"daily_order": ("carry_over", "fixed"), "brought_closed_counted": ("never", "if_registered", "always")}


def policy_from(base: dict, override: dict, where: str = "policy") -> Policy:
    """The preset named in `base`/`override`, with their settings; `where` names the block in errors."""
    merged = {**(base or {}), **(override or {})}
    name = merged.pop("preset", "real_estate")
    if name not in PRESETS:
        raise ConfigError(T.CFG_PRESET.format(where=where, name=name, names="、".join(PRESETS)))
    p = PRESETS[name]
    if "quiet_hours" in merged:
        q = merged.pop("quiet_hours")
        if not isinstance(q, list) or len(q) != 2:
            raise ConfigError(T.CFG_QUIET_HOURS.format(where=where))
        merged["quiet_start"], merged["quiet_end"] = q
    data = {**asdict(p), **merged}
    unknown = sorted(set(data) - set(asdict(p)))
    if unknown:
        raise ConfigError(T.CFG_UNKNOWN_SETTINGS.format(where=where, names="、".join(unknown)))
    try:
        pol = TypeAdapter(Policy).validate_python(data)
    except ValidationError as e:
        raise ConfigError(_explain(e, where).replace("quiet_start", "quiet_hours[0]")
                          .replace("quiet_end", "quiet_hours[1]")) from None
    for key, (low, high) in RANGES.items():
        if not low <= getattr(pol, key) <= high:
            raise ConfigError(T.CFG_RANGE.format(key=f"{where}.{key}", low=low, high=high, value=getattr(pol, key)))
    for key, allowed in CHOICES.items():
        if getattr(pol, key) not in allowed:
            raise ConfigError(T.CFG_CHOICE.format(key=f"{where}.{key}", allowed=" 或 ".join(allowed),
                                                  value=getattr(pol, key)))
    return pol


def project_settings(cfg: Config) -> list[ProjectSettings]:
    out = []
    policy_from(cfg.policy, {})              # a mistake in the top-level block is named there
    for i, p in enumerate(cfg.projects):
        tzname = p.timezone or cfg.timezone
        try:
            tz = ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError):
            key = f"projects.{i}.timezone" if p.timezone else "timezone"
            raise ConfigError(T.CFG_TIMEZONE.format(key=key, name=tzname)) from None
        pol = policy_from(cfg.policy, p.policy, f"projects.{i}.policy")
        ids = tuple((m.name, plat, uid) for m in p.salespeople + p.managers
                    for plat, uid in (("feishu", m.feishu), ("wechat", m.wechat)) if uid)
        chats = tuple((plat, c) for plat, lst in p.chats.items() for c in lst)
        out.append(ProjectSettings(p.name, tz, p.shift.start, p.shift.end, pol,
                                   tuple(m.name for m in p.managers),
                                   tuple(m.name for m in p.salespeople), ids, chats,
                                   web_url=cfg.web.url() if cfg.web else ""))
    return out


def load_config(path: str | Path) -> Config:
    """config.yaml → Config; every mistake is a ConfigError whose one line names the key or the file."""
    raw = _read_yaml(Path(path))
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(T.CFG_AT.format(path=path, error=_explain(e, ""))) from None
    try:
        project_settings(cfg)      # validate policies and time zones now, not at the first message
    except ConfigError as e:
        raise ConfigError(T.CFG_AT.format(path=path, error=e)) from None
    return cfg


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
        return yaml.safe_load(text) or {}
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
