# 接待助手 (reception bot). Build: docker build -t reception-bot .   (docker compose up -d: docker-compose.yml)
# Not built on the project's own machines (no Docker daemon there): tests/integration/test_deploy_files.py
# checks this file's facts and runs deploy/install.sh, the same install steps, in a fresh venv.

# ---- build: the venv, with every dependency, from deploy/install.sh ----
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rules ./rules
COPY handlers ./handlers
COPY storage ./storage
COPY bot ./bot
COPY deploy/install.sh ./deploy/install.sh
RUN sh deploy/install.sh /opt/venv /src

# ---- run: slim, non-root, CJK font for the charts, pg_dump for backups ----
FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin reception \
    && mkdir -p /data /etc/reception-bot && chown reception:reception /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json
WORKDIR /data
VOLUME ["/data"]
USER reception
# config.yaml's ops.port (or web.port) default; set ops.host: 0.0.0.0 in config.yaml to publish it
EXPOSE 8080
# the runner stops cleanly on SIGTERM (the sweep finishes, adapters drain): as systemd's KillSignal
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["reception-bot"]
CMD ["run", "--config", "/etc/reception-bot/config.yaml"]
