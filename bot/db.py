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

    orm._init_orm()  # noqa: SLF001 - engines must exist before AlembicConfig reads them
    try:
        with orm.AlembicConfig(stdout=_Quiet()) as config:
            await greenlet_spawn(migrate.upgrade, config)
    finally:
        for engine in orm._engines.values():  # noqa: SLF001 - this loop ends; NoneBot makes new ones
            await engine.dispose()


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
                # Written into nonebot-plugin-orm's temporary copy of the history, then moved to
                # migrations/versions (as `nb orm revision` does). Passing version_path instead
                # lists the history twice once migrations/versions holds scripts, and Alembic
                # then sees every revision as a second head.
                def make() -> None:
                    for script in migrate.revision(config, message):
                        config.move_script(script)

                await greenlet_spawn(make)
            else:
                raise SystemExit(f"unknown migrate command {verb!r}: upgrade | check | revision MESSAGE")
    finally:
        for engine in orm._engines.values():  # noqa: SLF001
            await engine.dispose()
