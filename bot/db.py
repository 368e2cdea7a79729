"""Database access (plain SQLAlchemy, one engine) and the schema upgrade run before start-up.

The settings are NoneBot's (`SQLALCHEMY_DATABASE_URL`, `SQLALCHEMY_ENGINE_OPTIONS` in the
environment or `.env`), read like any plugin's with `get_plugin_config`. The engine is made at
the first session, in the loop that uses it; migrations (`migrations/`, one Alembic history)
run on an engine of their own before NoneBot starts. Every table has an explicit name: the
history must not depend on which plugin a model happens to live in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Table
from sqlalchemy.types import TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Config(BaseModel):
    sqlalchemy_database_url: str = ""  # empty: SQLite data/lianxin.db under the working directory
    # Pooled connections die when the database restarts: test each before use.
    sqlalchemy_engine_options: dict[str, Any] = Field(default_factory=lambda: {"pool_pre_ping": True})
    sqlalchemy_echo: bool = False


def config() -> Config:
    from nonebot import get_plugin_config

    return get_plugin_config(Config)


def database_url() -> str:
    given = config().sqlalchemy_database_url
    if given:
        return given
    from bot import settings

    settings.data_dir().mkdir(parents=True, exist_ok=True)
    return settings.default_database_url()


def create_engine() -> AsyncEngine:
    from sqlalchemy.ext.asyncio import create_async_engine

    c = config()
    return create_async_engine(database_url(), echo=c.sqlalchemy_echo, **c.sqlalchemy_engine_options)


_engine: AsyncEngine | None = None
_sessions: async_sessionmaker[AsyncSession] | None = None
_override: Callable[[], AsyncSession] | None = None


def engine() -> AsyncEngine:
    """The bot's engine, made on first use (in the loop that then uses it)."""
    global _engine, _sessions
    if _engine is None:
        _engine = create_engine()
        _sessions = async_sessionmaker(_engine)  # expire_on_commit stays True
    return _engine


def session() -> AsyncSession:
    if _override is not None:
        return _override()
    engine()
    assert _sessions is not None
    return _sessions()


async def dispose() -> None:
    """Close the engine's connections (at shutdown); a later session makes a new engine."""
    global _engine, _sessions
    if _engine is not None:
        old, _engine, _sessions = _engine, None, None
        await old.dispose()


def use_sessions(factory: Callable[[], AsyncSession] | None) -> None:
    """Point every `session()` at another database (tests run each on SQLite and PostgreSQL)."""
    global _override
    _override = factory


def dialect_of(s: AsyncSession) -> str:
    return s.get_bind().dialect.name


def insert_ignore(s: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], keys: Iterable[str]):
    """INSERT ... ON CONFLICT DO NOTHING on the unique key, for idempotent ledgers."""
    dialect = postgresql if dialect_of(s) == "postgresql" else sqlite
    return dialect.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=list(keys))


def upsert(s: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], keys: Iterable[str]):
    """INSERT ... ON CONFLICT DO UPDATE, so concurrent start-ups cannot collide."""
    dialect = postgresql if dialect_of(s) == "postgresql" else sqlite
    keys = list(keys)
    stmt = dialect.insert(table).values(list(rows))
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


# --- migrations --------------------------------------------------------------------------------


def upgrade_schema() -> None:
    """Apply pending migrations non-interactively (call before nonebot.run(), no loop running)."""
    asyncio.run(_upgrade())


async def _upgrade() -> None:
    from nonebot import logger

    before, after = await alembic(_to_head)
    if before != after:
        logger.info(f"数据库结构已升级：{before or '新数据库'} → {after}")


def _to_head(cfg: Any) -> tuple[str | None, str | None]:
    from alembic import command
    from alembic.migration import MigrationContext

    def current() -> str | None:
        return MigrationContext.configure(cfg.attributes["connection"]).get_current_revision()

    before = current()
    command.upgrade(cfg, "head")
    return before, current()


async def alembic(fn: Callable[..., Any], *args: Any, stdout: Any = None, url: str | None = None) -> Any:
    """`fn(config, *args)`, an Alembic command, on one connection of an engine of its own (the
    loop it runs in may end before NoneBot's starts): migrations/env.py uses that connection.
    Every model must be imported by then (the plugins are loaded), so autogenerate sees them."""
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.ext.asyncio import create_async_engine

    def run(connection: Any) -> Any:
        cfg = AlembicConfig(stdout=stdout or _Quiet())  # type: ignore[arg-type]  # write/flush suffice
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return fn(cfg, *args)

    own = create_async_engine(url) if url else create_engine()
    try:
        async with own.begin() as connection:
            return await connection.run_sync(run)
    finally:
        await own.dispose()


class _Quiet:
    """Alembic's progress output goes nowhere; failures still raise."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def migrate_command(args: list[str]) -> None:
    """`python -m bot migrate [upgrade|check|heads|revision MESSAGE]` for developers."""
    from alembic.util import CommandError

    try:
        asyncio.run(_migrate_command(args))
    except CommandError as e:  # e.g. check: the models differ from the migrations
        raise SystemExit(f"migrate: {e}") from None


async def _migrate_command(args: list[str]) -> None:
    import sys

    from alembic import command

    verb = args[0] if args else "upgrade"
    if verb == "upgrade":
        await alembic(command.upgrade, "head", stdout=sys.stdout)
    elif verb == "check":
        await alembic(command.check, stdout=sys.stdout)
    elif verb == "heads":
        await alembic(command.heads, stdout=sys.stdout)
    elif verb == "revision":
        message = " ".join(args[1:]) or "schema change"
        script = await alembic(lambda cfg: command.revision(cfg, message, autogenerate=True), stdout=sys.stdout)
        _number(script, message)
    else:
        raise SystemExit(f"unknown migrate command {verb!r}: upgrade | check | heads | revision MESSAGE")


def _number(script: Any, message: str) -> None:
    """Alembic names a new revision `<rev>_<slug>.py`: number it after the last (0001_…)."""
    import re

    versions = MIGRATIONS / "versions"
    path = Path(script.path)
    numbers = [int(m.group(1)) for p in versions.glob("*.py") if p != path and (m := re.match(r"(\d{4})_", p.name))]
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", message).strip("_").lower() or "revision"
    target = versions / f"{max(numbers, default=0) + 1:04d}_{slug}.py"
    path.rename(target)
    print(f"kept {target.relative_to(MIGRATIONS.parent)} (revision {script.revision})")


# --- small reads on the hot path --------------------------------------------------------------

_readers: dict[str, Any] = {}  # database file -> a read-only sqlite3 connection, most recent last
_MAX_READERS = 4  # tests point session() at a new file each; production has one
_compiled: dict[int, tuple[Any, str, tuple[str, ...]]] = {}  # id(statement) -> (statement, SQL, bind order)
_file_of: tuple[object, str | None] | None = None  # (engine or factory, its SQLite file)


def _sqlite_file() -> str | None:
    """The SQLite file `session()` opens, or None (PostgreSQL, in-memory, not set up yet)."""
    global _file_of
    if _override is not None:
        source: object = _override
        bind = getattr(_override, "kw", {}).get("bind")
    else:
        bind = source = engine()
    if _file_of is not None and _file_of[0] is source:
        return _file_of[1]
    url = getattr(bind, "url", None)
    path = None
    if url is not None and url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        path = None if url.query.get("mode") == "memory" else str(Path(url.database).resolve())
    _file_of = (source, path)
    return path


def _reader(path: str) -> Any:
    import sqlite3

    conn = _readers.get(path)
    if conn is None:
        try:
            # Autocommit: every SELECT is a read transaction of its own and sees what any
            # connection of any process committed before it. Read-only, and never waits on a lock.
            conn = sqlite3.connect(
                f"{Path(path).as_uri()}?mode=ro", uri=True, timeout=0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error:
            return None  # tried again next time: the file may not exist yet
        _readers[path] = conn
        while len(_readers) > _MAX_READERS:
            _readers.pop(next(iter(_readers))).close()
    return conn


def _sqlite_sql(stmt: Any) -> tuple[str, tuple[str, ...]]:
    cached = _compiled.get(id(stmt))
    if cached is None or cached[0] is not stmt:
        compiled = stmt.compile(dialect=sqlite.dialect())
        cached = (stmt, str(compiled), tuple(compiled.positiontup or ()))
        _compiled[id(stmt)] = cached
    return cached[1], cached[2]


async def quick_read(stmt: Any, params: Mapping[str, Any]) -> tuple[Any, ...]:
    """The one row of a small SELECT over indexed keys (e.g. "has this person a flow open?").

    On SQLite the statement runs on a read-only connection of its own, here on the event loop:
    a look-up by primary key in the page cache takes microseconds, where a session through
    aiosqlite's thread costs several hops of a fraction of a millisecond each. It never waits
    for a lock: while another connection commits, the read takes the ordinary way, as it always
    does on PostgreSQL (one round trip).
    """
    import sqlite3

    path = _sqlite_file()
    if path is not None and (conn := _reader(path)) is not None:
        sql, order = _sqlite_sql(stmt)
        try:
            row = conn.execute(sql, tuple(params[name] for name in order)).fetchone()
        except sqlite3.Error:  # locked for a commit, a hot journal, a table not there yet
            pass
        else:
            return tuple(row)
    async with session() as s:
        return tuple((await s.execute(stmt, dict(params))).one())


def close_readers() -> None:
    while _readers:
        _readers.popitem()[1].close()
