"""Test set-up: NoneBot via nonebug, the test organisation, and a database per backend.

Every test that takes the `db` fixture runs on SQLite and, when LIANXIN_TEST_PG is set (a
postgresql+asyncpg:// URL), on PostgreSQL too. `bot.db.session()` is pointed at that database
for the test, so handlers driven through nonebug use it as well.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nonebug import NONEBOT_INIT_KWARGS
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

ROOT = Path(__file__).resolve().parent.parent
TEST_ORG = ROOT / "tests" / "data" / "org.yaml"
PG_URL = os.environ.get("LIANXIN_TEST_PG")

os.environ.setdefault("LIANXIN_ORG", str(TEST_ORG))
os.environ.pop("LIANXIN_CLOCK_FILE", None)


NONEBOT_CONFIG = {
    "driver": "~fastapi+~aiohttp",
    "log_level": "INFO",
    "sqlalchemy_database_url": "sqlite+aiosqlite://",
    "sqlalchemy_engine_options": {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}},
    # Ticks are driven by the tests themselves; a tick left running at the end of the session
    # would keep an aiosqlite connection and hang the loop's teardown.
    "apscheduler_autostart": False,
}


def pytest_configure(config: pytest.Config) -> None:
    """Initialise NoneBot and load the bot before collection, so test modules may import
    models and plugins at top level (plugins register into a running NoneBot)."""
    import nonebot
    import nonebot.log
    from nonebot import logger

    from bot import app, checks, logs

    config.stash[NONEBOT_INIT_KWARGS] = NONEBOT_CONFIG
    logs.install_redaction()
    # NoneBot's start-up chatter is not test output: the console handler comes back (at the
    # configured level, captured per test like any output) once everything is loaded.
    logger.remove(nonebot.log.logger_id)
    nonebot.init(**NONEBOT_CONFIG)
    # The default (in-memory) database gets the schema before bot.core's start-up hook syncs
    # the org file into it; tests that use a database take the `db` fixture's.
    nonebot.get_driver().on_startup(_create_default_schema)
    app.install_adapter()
    app.load_plugins()
    checks.run_all()  # the org file and every plugin's data files, as bot.app.boot does
    logs.install()


async def _create_default_schema() -> None:
    from bot import db
    from bot.models import Base

    async with db.engine().begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


@pytest.fixture(autouse=True)
def _real_clock_after() -> Iterator[None]:
    """Every test leaves the real clock behind, whatever time it set (one place, not one
    fixture per file)."""
    from bot import clock

    yield
    clock.set_now(None)


@pytest.fixture
def monday() -> None:
    """The clock stands at tests.helpers.MONDAY for the test (reset by _real_clock_after)."""
    from bot import clock
    from tests.helpers import MONDAY

    clock.set_now(MONDAY)


@pytest.fixture(scope="session", autouse=True)
def _nonebot_init() -> None:
    """Replaces nonebug's fixture of the same name: NoneBot is already initialised above."""
    from nonebot.matcher import matchers
    from nonebug.provider import NoneBugProvider

    matchers.set_provider(NoneBugProvider)


@pytest.fixture(scope="session", autouse=True)
async def _quiet_background(nonebug_init: None) -> AsyncIterator[None]:
    """No APScheduler ticks and no outbox worker in in-process tests: a bot created by nonebug
    would otherwise start sending rows a test has queued and wants to inspect. Tests that need
    them drive `Worker.drain` and the tick functions themselves; end-to-end tests run the real
    thing in a subprocess."""
    from apscheduler.schedulers.base import STATE_RUNNING
    from nonebot_plugin_apscheduler import scheduler

    from bot import outbox

    if scheduler.state == STATE_RUNNING:
        scheduler.pause()
    if outbox.worker is not None:
        await outbox.worker.stop()
    outbox.worker = None
    yield


BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


async def _pg_database(url: str) -> tuple[str, str]:
    """A fresh database on the test server; returns (its URL, its name)."""
    import asyncpg

    base = make_url(url)
    name = f"lianxin_t_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(
        host=base.host, port=base.port or 5432, user=base.username, password=base.password, database=base.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.set(database=name).render_as_string(hide_password=False), name


async def _drop_pg_database(url: str, name: str) -> None:
    import asyncpg

    base = make_url(url)
    conn = await asyncpg.connect(
        host=base.host, port=base.port or 5432, user=base.username, password=base.password, database=base.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def make_engine(backend: str, tmp_path: Path) -> tuple[AsyncEngine, str, str | None]:
    """An empty database: (engine, url, pg database name to drop afterwards)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return create_async_engine(url), url, None
    assert PG_URL
    url, name = await _pg_database(PG_URL)
    return create_async_engine(url, poolclass=NullPool), url, name


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[async_sessionmaker]:
    """A schema created from the models, with bot.db.session() pointed at it."""
    from bot import db as botdb
    from bot.models import Base

    engine, _, name = await make_engine(request.param, tmp_path)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    # Same options as production (bot.db: expire_on_commit stays True), so code that
    # reads an attribute after commit fails here as it would in the bot.
    factory = async_sessionmaker(engine)
    botdb.use_sessions(factory)
    try:
        yield factory
    finally:
        botdb.use_sessions(None)
        await engine.dispose()
        if name:
            await _drop_pg_database(PG_URL or "", name)


async def count(factory: async_sessionmaker, table: str) -> int:
    async with factory() as s:
        return int((await s.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())
