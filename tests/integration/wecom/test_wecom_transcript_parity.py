"""Issue 20 "done when": every shared scenario gives the same answers through the WeCom fake as
through `replay` (as the Feishu transcript-parity test does for one).

Each tests/scenarios/NN_*.txt runs twice on fresh SQLite databases: through `reception-bot replay`
in-process, and as aibot_msg_callback frames (group lines as "@接待助手 …" in the bound group,
private lines in the sender's private chat) pushed over the fake long connection to the real core
behind WecomAdapter, with the sweep run at each line's time as replay runs due work. The members
have WeCom userids in a copy of the scenario's config. The messages (where, what, in order) and the
final state must match."""
from __future__ import annotations

import json
import threading

import pytest
import yaml

from bot.cli import _transcript, main
from tests.integration.wecom.test_wecom_adapter import text_callback
from tests.integration.wecom.wecom_fake import text_of, wait_for
from tests.scenarios.test_scenarios import HERE, SCENARIOS

GROUP = "wrPARITY"


class Counting:
    """The App, counting the deliveries the adapter has settled (it marks each outcome once)."""

    def __init__(self, app):
        self._app, self.settled, self.lock = app, 0, threading.Lock()

    def __getattr__(self, name):
        return getattr(self._app, name)

    def send_failed(self, keys, now):
        self._app.send_failed(keys, now)
        with self.lock:
            self.settled += 1


def wecom_config(path, db) -> tuple[str, dict[str, str]]:
    """The scenario's config with a WeCom userid for every member and the parity group bound."""
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    for p in cfg["projects"]:
        for role in ("managers", "salespeople"):
            people = [m if isinstance(m, dict) else {"name": m} for m in p.get(role) or []]
            for m in people:
                m["wecom"] = ids.setdefault(m["name"], f"u{len(ids):03d}")
            p[role] = people
        p["chats"] = {"wecom": [GROUP]}
    cfg["database"] = f"sqlite:///{db}"
    return yaml.safe_dump(cfg, allow_unicode=True), ids


def replay(scenario, exp, capsys) -> tuple[list[tuple[str, str]], dict]:
    config = HERE / exp.get("config", "config.yaml")
    capsys.readouterr()
    assert main(["replay", str(scenario), "--config", str(config), "--state", *exp.get("args", [])]) == 0
    from tests.scenarios.test_scenarios import parse
    blocks, state = parse(capsys.readouterr().out)
    return [(b["to"], b["text"]) for b in blocks], state


def through_wecom(scenario, exp, fake, start, tmp_path) -> tuple[list[tuple[str, str]], dict]:
    from bot.bootstrap import bootstrap
    from bot.clock import FakeClock
    from bot.config import load_config
    from bot.sweep import sweep_once
    from bot.transcript import parse_time
    from handlers.state_view import dump
    text, ids = wecom_config(HERE / exp.get("config", "config.yaml"), tmp_path / "w.db")
    (tmp_path / "w.yaml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "w.yaml")
    project = cfg.projects[0].name
    tz = __import__("zoneinfo").ZoneInfo(cfg.projects[0].timezone or cfg.timezone)
    lines = _transcript(str(scenario), tz)
    app = bootstrap(cfg, db_url=cfg.database, clock=FakeClock(lines[0][0]))
    app.scheduled.continuous = True
    port = Counting(app)
    adapter = start(port)
    fake.wait_subscribed()
    for i, (at, sender, private, said) in enumerate(lines, 1):
        app.clock.set(at)
        sweep_once(app, adapter.send, at)                # replay runs due work at each line's time
        uid = ids.get(sender, f"u_{sender}")
        fake.push(text_callback(said if private else f"@接待助手 {said}", uid, None if private else GROUP))
        wait_for(lambda i=i: port.settled >= i, what=f"line {i} answered: {sender}: {said}")
    last = lines[-1][0]
    if "--until" in exp.get("args", []):
        last = parse_time(exp["args"][exp["args"].index("--until") + 1], tz)
        app.clock.set(last)
        sweep_once(app, adapter.send, last)
    names = {uid: name for name, uid in ids.items()}
    shown = [("群" if s["to"] == GROUP else f"{names.get(s['to'], s['to'])}(私聊)", text_of(s["body"]))
             for s in list(fake.shown)]
    return shown, dump(app.engine, app.projects[project], last)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_shared_scenario_gives_the_same_answers_through_wecom_as_through_replay(scenario, fake, start,
                                                                                 tmp_path, capsys):
    exp = json.loads(scenario.with_suffix(".expect.json").read_text(encoding="utf-8"))
    replayed, replay_state = replay(scenario, exp, capsys)
    wecom, wecom_state = through_wecom(scenario, exp, fake, start, tmp_path)
    assert replayed, "replay printed nothing: the scenario did not run"
    assert wecom == replayed
    assert {k: wecom_state[k] for k in ("next", "queue", "customers", "deals")} == \
        {k: replay_state[k] for k in ("next", "queue", "customers", "deals")}
