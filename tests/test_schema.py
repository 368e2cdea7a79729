"""The one Alembic history produces exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import BACKENDS, _drop_pg_database, make_engine, PG_URL


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrations_match_models(backend: str, tmp_path: Path) -> None:
    from bot.models import Base

    from bot import db

    engine, url, name = await make_engine(backend, tmp_path)
    try:
        await db.alembic(command.upgrade, "head", url=url)  # what start-up runs

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
