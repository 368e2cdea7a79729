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
