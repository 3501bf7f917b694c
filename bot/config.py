"""config.yaml → one typed, validated object (pydantic). Loaded once, at the edge."""
from __future__ import annotations

from dataclasses import asdict, dataclass
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

from rules.normalize import fold_name
from rules.policy import Policy, preset


class ConfigError(Exception):
    """config.yaml is wrong; the message says where and how to fix it."""


class MemberCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    feishu: str | None = None
    wechat: str | None = None

    _fold = field_validator("name")(lambda cls, v: fold_name(v))   # 阿依•古丽 is 阿依·古丽, as typed in the chat


def _members(v):
    return [{"name": m} if isinstance(m, str) else m for m in (v or [])]


class ShiftCfg(BaseModel):
    start: time = time(9, 0)
    end: time = time(18, 0)


class ProjectCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    shift: ShiftCfg = ShiftCfg()
    timezone: str | None = None
    managers: list[MemberCfg] = []
    salespeople: list[MemberCfg] = []
    policy: dict = {}
    chats: dict[str, list[str]] = {}

    _m = field_validator("managers", "salespeople", mode="before")(lambda cls, v: _members(v))

    @model_validator(mode="after")
    def _unique(self):
        names = [m.name for m in self.salespeople + self.managers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"成员重名: {', '.join(dup)}")
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


@dataclass(frozen=True)
class ProjectSettings:
    """What the core needs to know about one project (resolved from the config)."""

    name: str
    tz: ZoneInfo
    shift_start: time
    shift_end: time
    policy: Policy
    managers: tuple[str, ...]
    salespeople: tuple[str, ...]
    ids: tuple[tuple[str, str, str], ...] = ()      # (name, platform, user id)
    chats: tuple[tuple[str, str], ...] = ()          # (platform, chat id)
    web_url: str = ""                                # base of the /看板 links ("" when web: is not set)


def policy_from(base: dict, override: dict) -> Policy:
    merged = {**(base or {}), **(override or {})}
    p = preset(merged.pop("preset", "real_estate"))
    if "quiet_hours" in merged:
        q = merged.pop("quiet_hours")
        merged["quiet_start"], merged["quiet_end"] = q
    data = {**asdict(p), **merged}
    unknown = sorted(set(data) - set(asdict(p)))
    if unknown:
        raise ConfigError(f"policy 中有未知的设置: {', '.join(unknown)}")
    try:
        return TypeAdapter(Policy).validate_python(data)
    except ValidationError as e:
        raise ConfigError(_explain(e, "policy")) from None


def project_settings(cfg: Config) -> list[ProjectSettings]:
    out = []
    for p in cfg.projects:
        tzname = p.timezone or cfg.timezone
        try:
            tz = ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"未知的时区 {tzname!r}(例如 Asia/Shanghai)") from None
        pol = policy_from(cfg.policy, p.policy)
        if pol.daily_order not in ("carry_over", "fixed"):
            raise ConfigError("policy.daily_order 只能是 carry_over 或 fixed")
        ids = tuple((m.name, plat, uid) for m in p.salespeople + p.managers
                    for plat, uid in (("feishu", m.feishu), ("wechat", m.wechat)) if uid)
        chats = tuple((plat, c) for plat, lst in p.chats.items() for c in lst)
        out.append(ProjectSettings(p.name, tz, p.shift.start, p.shift.end, pol,
                                   tuple(m.name for m in p.managers),
                                   tuple(m.name for m in p.salespeople), ids, chats,
                                   web_url=cfg.web.url() if cfg.web else ""))
    return out


def load_config(path: str | Path) -> Config:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} 不是有效的 YAML: {e}") from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{path}: " + _explain(e, "")) from None
    project_settings(cfg)      # validate policies and time zones now, not at the first message
    return cfg


def _explain(e: ValidationError, prefix: str) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in (prefix, *err["loc"]) if x != "")
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
