"""The composition root wires `run`: platforms when their credentials are set, else the console, then the sweep.

Every part is a fake passed through `Factories` (no database, no network, no threads)."""
from __future__ import annotations

from bot.bootstrap import Factories, has_platform, start_edges
from handlers.messages import Outgoing


class Recorder:
    """Fake adapters, pages and scheduler that write what happens, in order, to one log."""

    def __init__(self):
        self.log, self.sent, self.deliver = [], {}, None

    def channel(self, name, fail=False):
        def start(app, _settings_or_cfg):
            self.log.append(f"start {name}")

            def send(msgs):
                if fail:
                    raise ConnectionError(f"{name} down")
                self.sent.setdefault(name, []).extend(o.key for o in msgs)
                return set()
            return send, lambda: self.log.append(f"stop {name}")
        return start

    def factories(self, fail=()):
        recorder = self

        class Console:
            def __init__(self, app, project):
                recorder.log.append(f"console {project}")

            def start(self):
                recorder.log.append("greeting")

            def send(self, msgs):
                return set()

        class Scheduler:
            def __init__(self, app, deliver):
                recorder.log.append("sweep")
                recorder.deliver = deliver

            def shutdown(self, wait):
                recorder.log.append(f"sweep stopped wait={wait}")

        return Factories(health=lambda app, cfg: None, web=lambda app, cfg, health: [lambda: self.log.append("stop web")],
                         feishu=self.channel("feishu", "feishu" in fail),
                         wechat=self.channel("wechat", "wechat" in fail), wecom=self.channel("wecom", "wecom" in fail),
                         console=Console, scheduler=Scheduler)


WECHAT_ENV = {"WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:1"}
WECOM_ENV = {"WECOM_BOT_ID": "aib_x", "WECOM_BOT_SECRET": "s"}


def test_without_platform_credentials_the_console_greets_before_the_sweep_prints_through_it():
    r = Recorder()
    edges = start_edges(object(), object(), "阳光花园", {}, None, r.factories())
    assert r.log == ["console 阳光花园", "greeting", "sweep"]
    assert edges.channels == [] and r.deliver == edges.console.send
    edges.stop()
    assert r.log[-2:] == ["sweep stopped wait=False", "stop web"]     # the console's sweep is not waited for


def test_feishu_and_wechat_both_start_and_a_reply_goes_back_only_through_its_own_platform():
    r = Recorder()
    edges = start_edges(object(), object(), "阳光花园", WECHAT_ENV, "feishu settings", r.factories())
    assert edges.console is None and [n for n, _ in edges.channels] == ["feishu", "wechat"]
    failed = r.deliver([Outgoing("提醒", key="k:all"), Outgoing("收到", key="k:wx", platform="wechat")])
    assert failed == set() and r.sent == {"feishu": ["k:all"], "wechat": ["k:all", "k:wx"]}


def test_one_platform_down_does_not_hold_back_the_other_and_only_its_keys_fail():
    r = Recorder()
    start_edges(object(), object(), "阳光花园", WECHAT_ENV, "feishu settings", r.factories(fail=("feishu",)))
    failed = r.deliver([Outgoing("提醒", key="k:all"), Outgoing("收到", key="k:wx", platform="wechat")])
    assert failed == {"k:all"} and r.sent == {"wechat": ["k:all", "k:wx"]}


def test_stopping_waits_for_the_sweep_first_then_stops_the_pages_and_platforms_in_start_order():
    r = Recorder()
    edges = start_edges(object(), object(), "阳光花园", WECHAT_ENV, "feishu settings", r.factories())
    edges.stop()
    assert r.log == ["start feishu", "start wechat", "sweep",
                     "sweep stopped wait=True", "stop web", "stop feishu", "stop wechat"]


def test_an_app_id_alone_or_a_wechat_endpoint_counts_as_a_platform_for_the_log_level():
    assert has_platform({"FEISHU_APP_ID": "cli_x"}) and has_platform(WECHAT_ENV)
    assert not has_platform({}) and not has_platform({"FEISHU_APP_ID": ""})


def test_wecom_credentials_alone_start_only_wecom_and_its_replies_go_back_through_it():
    r = Recorder()
    edges = start_edges(object(), object(), "阳光花园", WECOM_ENV, None, r.factories())
    assert edges.console is None and [n for n, _ in edges.channels] == ["wecom"] and r.log == ["start wecom", "sweep"]
    failed = r.deliver([Outgoing("收到", key="k:fs", platform="feishu"), Outgoing("收到", key="k:wc", platform="wecom")])
    assert failed == set() and r.sent == {"wecom": ["k:wc"]}
    assert has_platform({"WECOM_BOT_ID": "aib_x"})
