"""The one Alembic history produces exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.util import greenlet_spawn

from tests.conftest import BACKENDS, ROOT, _drop_pg_database, make_engine, PG_URL


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrations_match_models(backend: str, tmp_path: Path) -> None:
    from bot.models import Base

    engine, _, name = await make_engine(backend, tmp_path)
    try:
        config = Config()
        config.set_main_option("script_location", str(ROOT / "migrations"))
        config.set_main_option("version_locations", str(ROOT / "migrations" / "versions"))
        config.attributes["engines"] = {"": engine}
        config.attributes["metadatas"] = {"": Base.metadata}
        await greenlet_spawn(command.upgrade, config, "head")

        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            diffs = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
        assert set(Base.metadata.tables) <= tables
        assert diffs == [], f"models and migrations differ: {diffs}"
    finally:
        await engine.dispose()
        if name:
            await _drop_pg_database(PG_URL or "", name)


async def test_the_start_up_upgrade_leaves_no_extra_postprocessor() -> None:
    """Every matcher run pays for each run-postprocessor: the upgrade before start-up must not
    leave nonebot-plugin-orm's session clean-up registered a second time."""
    from nonebot import message

    from bot import db

    before = set(message._run_postprocessors)
    await db._upgrade()
    assert set(message._run_postprocessors) == before
