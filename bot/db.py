"""Database access through nonebot-plugin-orm, and the schema upgrade run before start-up.

Every table has an explicit name: the one Alembic history in `migrations/` must not depend on
which plugin a model happens to live in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy.types import TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


_override: Callable[[], AsyncSession] | None = None


def session() -> AsyncSession:
    if _override is not None:
        return _override()
    from nonebot_plugin_orm import get_session

    return get_session()


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


def upgrade_schema() -> None:
    """Apply pending migrations non-interactively (call before nonebot.run(), no loop running)."""
    asyncio.run(_upgrade())


async def _upgrade() -> None:
    import nonebot_plugin_orm as orm
    from nonebot_plugin_orm import migrate
    from sqlalchemy.util import greenlet_spawn

    from nonebot import message

    # _init_orm registers a run-postprocessor each time it runs, and the plugin runs it again at
    # start-up: without this, every matcher run pays for two (a third of a group message's cost).
    before = set(message._run_postprocessors)  # noqa: SLF001
    orm._init_orm()  # noqa: SLF001 - engines must exist before AlembicConfig reads them
    try:
        with orm.AlembicConfig(stdout=_Quiet()) as config:  # type: ignore[arg-type]  # write/flush suffice
            await greenlet_spawn(migrate.upgrade, config)
    finally:
        message._run_postprocessors.intersection_update(before)  # noqa: SLF001
        for engine in orm._engines.values():  # noqa: SLF001 - this loop ends; NoneBot makes new ones
            await engine.dispose()


def drop_scoped_session_cleanup() -> int:
    """Unregister nonebot-plugin-orm's run-postprocessors; returns how many there were.

    Each `_init_orm()` registers `async_scoped_session.remove` to close the scoped sessions a
    matcher run opened, and NoneBot runs every postprocessor (with dependency injection, in
    tasks) after every matcher run: a third of an ordinary group message's cost. The bot opens
    only plain sessions (`session()`, closed by their `async with`) and never a scoped one
    (tests/test_schema.py checks that no code asks for one), so there is nothing to clean up.
    """
    from sqlalchemy.ext.asyncio import async_scoped_session

    from nonebot import message

    ours = {
        d for d in message._run_postprocessors  # noqa: SLF001
        if isinstance(getattr(d.call, "__self__", None), async_scoped_session)
    }
    message._run_postprocessors.difference_update(ours)  # noqa: SLF001
    return len(ours)


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
    """`python -m bot migrate [upgrade|check|revision MESSAGE]` for developers."""
    asyncio.run(_migrate_command(args))


async def _migrate_command(args: list[str]) -> None:
    import sys

    import nonebot_plugin_orm as orm
    from nonebot_plugin_orm import migrate
    from sqlalchemy.util import greenlet_spawn

    orm._init_orm()  # noqa: SLF001
    verb = args[0] if args else "upgrade"
    try:
        with orm.AlembicConfig(stdout=sys.stdout) as config:
            if verb == "upgrade":
                await greenlet_spawn(migrate.upgrade, config)
            elif verb == "check":
                await greenlet_spawn(migrate.check, config)
            elif verb == "revision":
                message = " ".join(args[1:]) or "schema change"
                scripts = await greenlet_spawn(lambda: list(migrate.revision(config, message)))
                _keep_revisions(scripts, message)
            else:
                raise SystemExit(f"unknown migrate command {verb!r}: upgrade | check | revision MESSAGE")
    finally:
        for engine in orm._engines.values():  # noqa: SLF001
            await engine.dispose()


def _keep_revisions(scripts: list[Any], message: str) -> None:
    """nonebot-plugin-orm writes new revisions into a temporary copy of the versions folder:
    copy them into the one history, numbered after the last (0001_…, 0002_…)."""
    import re
    import shutil

    versions = MIGRATIONS / "versions"
    numbers = [int(m.group(1)) for p in versions.glob("*.py") if (m := re.match(r"(\d{4})_", p.name))]
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", message).strip("_").lower() or "revision"
    for n, script in enumerate(scripts, start=max(numbers, default=0) + 1):
        target = versions / f"{n:04d}_{slug}.py"
        shutil.copy(script.path, target)
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
        try:
            import nonebot_plugin_orm as orm

            bind = source = orm._engines[""]  # noqa: SLF001 - the default engine sessions use
        except (AttributeError, KeyError, NameError, ValueError):
            return None
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
