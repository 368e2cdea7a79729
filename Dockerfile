# 连心 (Lianxin) bot image. Deployment guide: docs/deploy.md
#
# Runtime state policy:
#   - /app (code, migrations, shipped examples under data/) belongs to root and is
#     read-only for the bot user.
#   - The only writable place is /app/data/state (a volume). The image's default database
#     is a SQLite file there; docker-compose.yml points SQLALCHEMY_DATABASE_URL at
#     PostgreSQL instead.
#   - LIANXIN_SECRET_KEY must be given in the environment: the default key file
#     data/secret.key cannot be written here, so the key never lives (and dies) inside
#     a container.
#   - The organisation file and study materials are mounted at run time
#     (LIANXIN_ORG, LIANXIN_MATERIALS).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8080

# The charts' Chinese font comes with the Python dependencies (mplfonts).
# tzdata: time zones for TZ and zoneinfo (schedules follow TZ, else the org file's timezone).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tzdata \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 lianxin \
 && useradd --system --uid 10001 --gid lianxin --home-dir /home/lianxin --create-home \
        --shell /usr/sbin/nologin lianxin

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb')).get('project', {}).get('dependencies', []); open('/tmp/requirements.txt', 'w').write('\n'.join(deps))" \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself (.dockerignore keeps secrets, local databases and tests out).
# `python -m bot` runs from /app, so bot/ and migrations/ are used from here.
COPY . .
RUN pip install . \
 && rm -rf build ./*.egg-info \
 && mkdir -p /app/data/state \
 && chown lianxin:lianxin /app/data/state

ENV SQLALCHEMY_DATABASE_URL=sqlite+aiosqlite:////app/data/state/lianxin.db

USER lianxin

# Warm matplotlib's font cache and jieba's dictionary cache.
# Only a start-up speed-up: a failure here does not fail the build.
RUN python -c "import matplotlib.font_manager, jieba; jieba.initialize()" || true

VOLUME ["/app/data/state"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import os, socket; socket.create_connection(('127.0.0.1', int(os.environ.get('PORT', '8080'))), 3).close()"

CMD ["python", "-m", "bot"]
