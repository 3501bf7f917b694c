"""`reception-bot doctor` tries the Feishu credentials against the platform (here: the fake)."""
from __future__ import annotations

from feishu_fake import APP_ID, APP_SECRET

from tests.integration.test_doctor import deployment, run  # noqa: F401 (deployment: a fixture)


def test_feishu_credentials_are_tried_against_the_platform(deployment, fake):  # noqa: F811
    good = {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_DOMAIN": fake.url}
    code, lines = run(deployment, good)
    assert code == 0 and any(line.startswith("OK    飞书凭据: cli_test_app") for line in lines), lines
    code, lines = run(deployment, {**good, "FEISHU_APP_SECRET": "wrong"})
    assert code == 1 and [x for x in lines if x.startswith("FAIL")] == [
        "FAIL  飞书凭据: 飞书拒绝了 App ID / App Secret（code=10014：app secret invalid）："
        "请核对 FEISHU_APP_ID 和 FEISHU_APP_SECRET"]
