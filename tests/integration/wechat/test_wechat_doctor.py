"""`reception-bot doctor` finds the WeChat puppet service (here: the fake) answering on its port."""
from __future__ import annotations

import asyncio

from tests.integration.test_doctor import deployment  # noqa: F401 (deployment: a fixture)
from tests.integration.test_doctor import run as doctor_run

from .conftest import Harness


def test_doctor_reaches_the_puppet_service(run, deployment) -> None:  # noqa: F811
    async def scenario(h: Harness) -> None:
        env = {"WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{h.service.port}"}
        code, lines = await asyncio.to_thread(doctor_run, deployment, env)
        assert code == 0, lines
        assert f"OK    微信 puppet 服务: 127.0.0.1:{h.service.port} 可以连接（token 在连接时才校验）" in lines

    run(scenario)
