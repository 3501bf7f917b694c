"""The deployment files (issue 21 items 3 and 4), checked as far as a machine without a Docker daemon allows:
the Dockerfile's facts, the compose file against .env.example and the config, the install steps run
for real in a fresh venv, and the systemd unit through `systemd-analyze verify`.
`docker build` and `docker compose up` themselves are not run here (README says so)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.adapters.feishu.adapter import FeishuSettings
from bot.config import OpsCfg, WebCfg, load_config
from tests.conftest import ROOT

SOURCES = ("bot", "handlers", "storage", "rules")


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        msg = f"{tool} is not installed"
        if os.environ.get("CI"):
            pytest.fail(msg + " — and CI is set, so this is a failure (.ci/run installs it)")
        pytest.skip(msg)
    return path


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    lines = [x.strip() for x in text.splitlines() if x.strip() and not x.strip().startswith("#")]
    return [(x.split(None, 1)[0].upper(), x.split(None, 1)[1] if " " in x else "") for x in lines]


def final_stage(ins: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (k, _) in enumerate(ins) if k == "FROM")
    return ins[last_from:]


def test_the_dockerfile_is_multi_stage_slim_non_root_with_the_font_a_volume_and_a_health_check():
    ins = instructions(ROOT / "Dockerfile")
    froms = [a for k, a in ins if k == "FROM"]
    assert len(froms) >= 2 and all("slim" in f for f in froms)
    final = final_stage(ins)
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(a for k, a in final if k == "RUN")
    assert "fonts-noto-cjk" in runs and "useradd --system --uid 10001 --home-dir /data" in runs
    assert [a for k, a in final if k == "EXPOSE"] == [str(OpsCfg().port)] == [str(WebCfg().port)]
    [check] = [a for k, a in final if k == "HEALTHCHECK"]
    assert f"http://127.0.0.1:{OpsCfg().port}/healthz" in check
    assert [a for k, a in final if k == "STOPSIGNAL"] == ["SIGTERM"]
    assert "signal.SIGTERM" in (ROOT / "bot/runner.py").read_text(encoding="utf-8")   # what the runner stops on
    assert [a for k, a in final if k == "VOLUME"] == ['["/data"]']
    assert any("deploy/install.sh" in a for k, a in ins if k == "RUN")


def test_everything_the_dockerfile_copies_exists_and_is_not_ignored():
    ignored = [x.strip() for x in (ROOT / ".dockerignore").read_text().splitlines() if x.strip() and x[0] != "#"]
    for k, a in instructions(ROOT / "Dockerfile"):
        if k == "COPY" and not a.startswith("--from"):
            for src in a.split()[:-1]:
                assert (ROOT / src).exists(), src
                assert src.rstrip("/").split("/")[0] not in ignored, src


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def example_vars() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(x.split("=", 1) for x in lines if x.strip() and not x.startswith("#"))


def test_the_compose_file_runs_the_bot_after_a_healthy_postgres_16_with_volumes_and_secrets_from_env():
    c = compose()
    db, bot = c["services"]["db"], c["services"]["bot"]
    assert db["image"] == "postgres:16" and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["restart"] == bot["restart"] == "unless-stopped"
    assert bot["env_file"] == ".env" and bot["stop_signal"] == "SIGTERM"
    named = {v.split(":")[0] for s in (db, bot) for v in s["volumes"]}
    assert {"pgdata", "botdata"} <= named and set(c["volumes"]) == {"pgdata", "botdata"}
    [config_mount] = [v for v in bot["volumes"] if v.startswith("./config.yaml:")]
    cmd = [a for k, a in instructions(ROOT / "Dockerfile") if k == "CMD"][0]
    assert config_mount.split(":")[1] in cmd                       # the image reads the file compose mounts
    load_config(ROOT / config_mount.split(":")[0])                 # … and that file is a valid config


def test_every_variable_the_compose_file_and_the_code_read_is_in_env_example_and_none_is_stale():
    listed = set(example_vars())
    in_compose = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    code = " ".join(p.read_text(encoding="utf-8") for d in SOURCES for p in (ROOT / d).rglob("*.py"))
    in_code = set(re.findall(r"(?:environ|env)(?:\.get\(|\[)\"([A-Z][A-Z0-9_]*[A-Z0-9])\"", code))
    in_code |= {"FEISHU_" + f.upper() for f in FeishuSettings.__dataclass_fields__ if f not in ("app_id", "app_secret")}
    in_code |= {"DATABASE_URL"}
    assert in_compose - listed == set() and in_code - listed == set()
    assert listed - in_compose - in_code == set()


def test_docker_compose_itself_accepts_the_file_with_env_example_as_env(tmp_path):
    exe = need("docker-compose")
    for name in ("docker-compose.yml", "config.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    done = subprocess.run([exe, "config"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]["bot"]["environment"]
    assert resolved["DATABASE_URL"] == "postgresql://reception:change-me@db:5432/reception"


def test_the_install_steps_of_the_image_install_a_working_bot_in_a_fresh_venv(tmp_path, config_file):
    src = tmp_path / "src"
    (src / "deploy").mkdir(parents=True)
    for name in (*SOURCES, "pyproject.toml", "README.md", "deploy/install.sh"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    venv = tmp_path / "venv"
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["sh", str(src / "deploy/install.sh"), str(venv), str(src)], env=env,
                          capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    day = tmp_path / "day.txt"
    day.write_text("[2026-11-27 09:00] 张经理: /开班 李四 王五\n[2026-11-27 09:05] 李四: 接待\n", encoding="utf-8")
    out = subprocess.run([str(venv / "bin/reception-bot"), "replay", str(day), "--config", str(config_file()),
                          "--state"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "下一位:王五" in out.stdout, out.stderr[-2000:]


def test_the_systemd_unit_restarts_always_runs_unprivileged_and_passes_systemd_analyze_verify(tmp_path):
    unit = (ROOT / "deploy/reception-bot.service").read_text(encoding="utf-8")
    keys = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert keys["Restart"] == "always" and keys["User"] == "reception" and keys["KillSignal"] == "SIGTERM"
    assert keys["EnvironmentFile"] == "/etc/reception-bot/env" and keys["NoNewPrivileges"] == "yes"
    assert keys["ProtectSystem"] == "strict" and keys["ReadWritePaths"] == keys["WorkingDirectory"]
    exe = need("systemd-analyze")
    # verify needs ExecStart's program to exist: the installed path is this checkout's venv here
    local = unit.replace("/opt/reception-bot/venv/bin/reception-bot", str(Path(sys.executable).parent / "reception-bot"))
    (tmp_path / "reception-bot.service").write_text(local, encoding="utf-8")
    done = subprocess.run([exe, "verify", "--man=no", str(tmp_path / "reception-bot.service")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr      # an unknown key is only a warning there


def test_systemd_analyze_verify_does_catch_a_mistake(tmp_path):
    exe = need("systemd-analyze")
    (tmp_path / "bad.service").write_text("[Service]\nExecStart=/bin/true\nRestart=sometimes\n", encoding="utf-8")
    done = subprocess.run([exe, "verify", "--man=no", str(tmp_path / "bad.service")], capture_output=True, text=True)
    assert "restart specifier" in done.stderr        # said as a warning: the test above requires none
