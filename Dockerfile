# huibao in a container: `docker compose up -d` with compose.yaml (PostgreSQL beside it),
# or alone with SQLite in the /data volume. Walk-through: README "Deployment".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/huibao/venv/bin:$PATH

# A user of its own; its home is the data volume (matplotlib's and fontconfig's caches).
RUN groupadd --system --gid 10001 huibao \
    && useradd --system --uid 10001 --gid huibao --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin huibao \
    && mkdir /data && chown huibao:huibao /data

# pg_dump for the scheduled backups and `huibao db backup` of a PostgreSQL database.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# Only what the wheel is built from (see .dockerignore), installed with the pinned versions.
WORKDIR /opt/huibao/src
COPY pyproject.toml constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY templates ./templates
RUN python -m venv /opt/huibao/venv \
    && pip install -c constraints.txt '.[charts]' \
    && rm -rf /opt/huibao/src

USER huibao
# The working directory is the volume: ./data/ (SQLite), ./out/ (`huibao compile`) and a
# .env, if you put one there, all live in it. With compose, DATABASE_URL names PostgreSQL.
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=sqlite:////data/huibao.db \
    WEBHOOK_LISTEN=0.0.0.0 \
    WEBHOOK_PORT=8443
# Only used in webhook mode (WEBHOOK_URL set); publish it to your reverse proxy alone.
EXPOSE 8443

# `huibao check` exits 0 only when all is well.
HEALTHCHECK --interval=1m --timeout=30s --start-period=1m --retries=3 \
    CMD ["huibao", "check"]

# SIGTERM (docker stop) stops either mode cleanly; exec hands it to huibao, not to sh.
CMD ["sh", "-c", "huibao db upgrade && exec huibao run"]
